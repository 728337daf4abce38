// common.js: shared by every Code node that reads the request or a provider
// answer. The request is read from the Webhook node (one item per run).
const req = $('Webhook').first().json.body || {};
const gp = req.generation_params || {};
const settings = $('Provider settings').first().json;
const providerURL = String(settings.provider_url || '').replace(/\/+$/, '');

function clip(value, max) {
  let s = typeof value === 'string' ? value : JSON.stringify(value);
  if (s === undefined || s === null) s = '';
  return s.length > max ? s.slice(0, max) + '…' : s;
}

function failure(code, message) {
  return { json: { ok: false, error_code: String(code), error_message: clip(String(message), 400) } };
}

function unsupported(param, why) {
  return failure('unsupported_parameter', 'unsupported parameter ' + param + ': ' + why);
}

function success(images) {
  return { json: { ok: true, images: images } };
}

function noImage(body) {
  return failure('provider_no_image', 'the provider answered without an image: ' + clip(body, 200));
}

// providerError reads an HTTP Request node's output (full response, never
// error) and returns a failure naming the provider's own message and code,
// or null for a 2xx answer.
function providerError(res) {
  if (res.statusCode === undefined) {
    const e = res.error;
    return failure('provider_unreachable', (e && (e.message || e.description)) || clip(e, 200) || 'the provider could not be reached');
  }
  const status = Number(res.statusCode);
  if (status >= 200 && status < 300) return null;
  let body = res.body;
  if (typeof body === 'string') {
    try { body = JSON.parse(body); } catch (_) { /* plain text answer */ }
  }
  let message;
  let code;
  if (body && typeof body === 'object') {
    const e = body.error !== undefined && body.error !== null ? body.error : body;
    if (typeof e === 'string') {
      message = e;
      code = body.code;
    } else if (typeof e === 'object') {
      message = e.message || e.detail || e.title || (Array.isArray(e.errors) ? e.errors.join('; ') : undefined);
      code = e.code || e.type || e.name;
    }
  }
  if (!message) message = 'the provider answered HTTP ' + status + (body ? ': ' + clip(body, 200) : '');
  return failure(code ? String(code) : 'provider_http_' + status, message);
}

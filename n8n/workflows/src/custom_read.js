// custom_read.js: understands the common answer shapes: images[], data[]
// (OpenAI style), output (URL or list of URLs), image_url / image_base64.
const res = $json;
const err = providerError(res);
if (err) return err;
let body = res.body;
if (typeof body === 'string') {
  try { body = JSON.parse(body); } catch (_) { return noImage(body); }
}
body = body || {};
if (body.error) return failure(body.error.code || 'provider_error', body.error.message || clip(body.error, 200));
const images = [];
const add = (i) => {
  if (typeof i === 'string') { if (/^https?:\/\//.test(i)) images.push({ url: i }); return; }
  if (!i || typeof i !== 'object') return;
  const b64 = [i.base64, i.image_base64, i.b64_json, i.data].find((v) => typeof v === 'string' && v !== '');
  const url = [i.url, i.image_url].find((v) => typeof v === 'string' && v !== '');
  if (!b64 && !url) return;
  const img = b64 ? { base64: b64 } : { url: url };
  if (i.mime_type || i.image_format || i.format) img.mime_type = i.mime_type || i.image_format || i.format;
  img.width = i.width || gp.width;
  img.height = i.height || gp.height;
  img.seed = i.seed !== undefined ? i.seed : gp.seed;
  images.push(img);
};
for (const list of [body.images, body.data, body.output]) {
  if (Array.isArray(list)) list.forEach(add);
}
if (typeof body.output === 'string') add(body.output);
if (images.length === 0) add(body);
if (images.length === 0) return noImage(body);
return success(images);

// replicate_read.js: reads a prediction (the submission's answer or a poll)
// into a result, or into {pending, poll_url, deadline} for the Wait loop.
const res = $json;
const err = providerError(res);
if (err) return err;
const p = res.body || {};
const first = $('Read submission').isExecuted ? $('Read submission').first().json : {};
const deadline = first.deadline || Date.now() + Number(settings.deadline_seconds || 900) * 1000;
if (p.status === 'succeeded') {
  const out = Array.isArray(p.output) ? p.output : (p.output ? [p.output] : []);
  const images = out.filter((u) => typeof u === 'string').map((u) => ({ url: u, seed: gp.seed }));
  return images.length ? success(images) : noImage(p);
}
if (p.status === 'failed' || p.status === 'canceled') return failure('provider_' + p.status, p.error || 'the prediction ' + p.status);
if (Date.now() > deadline) return failure('provider_timeout', 'no image after ' + Number(settings.deadline_seconds || 900) + ' s (prediction ' + p.id + ' is ' + p.status + ')');
if (!p.urls || !p.urls.get) return noImage(p);
return { json: { ok: false, pending: true, poll_url: p.urls.get, deadline: deadline } };

// replicate_map.js: the app's parameters → a Replicate prediction.
// model_id is owner/name (official models) or owner/name:version.
const model = String(gp.model_id || '');
const m = model.match(/^([\w.-]+)\/([\w.-]+)(?::([0-9a-f]{64}))?$/);
if (!m) return unsupported('model_id', model + ' is not owner/name or owner/name:version');
if (Number(gp.num_images || 1) !== 1) return unsupported('num_images', 'one image per request');
const input = { prompt: gp.prompt, width: gp.width, height: gp.height, aspect_ratio: gp.aspect_ratio, seed: gp.seed, num_outputs: 1, output_format: 'png' };
if (gp.negative_prompt) input.negative_prompt = gp.negative_prompt;
if (m[3]) return { json: { ok: true, url: providerURL + '/predictions', body: { version: m[3], input: input } } };
return { json: { ok: true, url: providerURL + '/models/' + m[1] + '/' + m[2] + '/predictions', body: { input: input } } };

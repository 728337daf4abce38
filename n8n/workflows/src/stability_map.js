// stability_map.js: the app's parameters → Stability AI stable-image
// (multipart POST /v2beta/stable-image/generate/{core|ultra|sd3}).
// Stability sizes images by aspect ratio, not by width and height.
const model = String(gp.model_id || '');
const aspects = ['16:9', '1:1', '21:9', '2:3', '3:2', '4:5', '5:4', '9:16', '9:21'];
let endpoint;
if (model === 'core' || model === 'ultra') endpoint = model;
else if (model.startsWith('sd3')) endpoint = 'sd3';
else return unsupported('model_id', model + ' is not a Stability stable-image model (core, ultra, sd3.5-large, sd3.5-large-turbo, sd3.5-medium, sd3.5-flash)');
if (!aspects.includes(gp.aspect_ratio)) return unsupported('aspect_ratio', 'Stability makes ' + aspects.join(', ') + ', not ' + gp.aspect_ratio);
if (Number(gp.seed) > 4294967294) return unsupported('seed', 'Stability seeds go up to 4294967294');
if (gp.negative_prompt && model.endsWith('turbo')) return unsupported('negative_prompt', model + ' takes no negative prompt');
if (Number(gp.num_images || 1) !== 1) return unsupported('num_images', 'one image per request');
return { json: { ok: true, url: providerURL + '/v2beta/stable-image/generate/' + endpoint, form: {
  prompt: gp.prompt,
  negative_prompt: gp.negative_prompt || ' ',
  aspect_ratio: gp.aspect_ratio,
  seed: String(gp.seed),
  output_format: 'png',
  model: endpoint === 'sd3' ? model : 'sd3.5-large',
} } };

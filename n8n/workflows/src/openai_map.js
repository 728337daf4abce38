// openai_map.js: the app's parameters → OpenAI Images API (POST /images/generations).
// Sizes are checked for the models OpenAI documents; other models (gateways) pass through.
const sizes = {
  'dall-e-2': ['256x256', '512x512', '1024x1024'],
  'dall-e-3': ['1024x1024', '1792x1024', '1024x1792'],
  'gpt-image-1': ['1024x1024', '1536x1024', '1024x1536'],
  'gpt-image-1-mini': ['1024x1024', '1536x1024', '1024x1536'],
};
const model = String(gp.model_id || '');
const size = gp.width + 'x' + gp.height;
if (gp.negative_prompt) return unsupported('negative_prompt', 'OpenAI image models take no negative prompt; leave it empty');
if (sizes[model] && !sizes[model].includes(size)) return unsupported('resolution', model + ' makes ' + sizes[model].join(', ') + ', not ' + size);
if (Number(gp.num_images || 1) !== 1) return unsupported('num_images', 'one image per request');
const body = { model: model, prompt: gp.prompt, n: 1, size: size };
// gpt-image models always answer base64 and refuse response_format.
if (!model.startsWith('gpt-image')) body.response_format = 'b64_json';
return { json: { ok: true, url: providerURL + '/images/generations', body: body } };

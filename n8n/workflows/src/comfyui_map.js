// comfyui_map.js: the app's parameters → a ComfyUI API-format text-to-image
// graph (POST /prompt). model_id names the checkpoint file.
if (Number(gp.num_images || 1) !== 1) return unsupported('num_images', 'one image per request');
let ckpt = String(gp.model_id || '');
if (!/\.(safetensors|ckpt)$/.test(ckpt)) ckpt += '.safetensors';
const graph = {
  '3': { class_type: 'KSampler', inputs: { seed: gp.seed, steps: 25, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: ckpt } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: gp.width, height: gp.height, batch_size: 1 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: gp.prompt, clip: ['4', 1] } },
  '7': { class_type: 'CLIPTextEncode', inputs: { text: gp.negative_prompt || '', clip: ['4', 1] } },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'influencegen', images: ['8', 0] } },
};
return { json: { ok: true, url: providerURL + '/prompt', body: { prompt: graph, client_id: 'influencegen-' + req.ai_generation_request_id } } };

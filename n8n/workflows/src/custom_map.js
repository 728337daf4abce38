// custom_map.js: the app's parameters, as they are, for a provider that
// speaks this body; edit it (or the Call provider node) to fit yours.
return { json: { ok: true, url: providerURL, body: {
  prompt: gp.prompt,
  negative_prompt: gp.negative_prompt,
  model: gp.model_id,
  width: gp.width,
  height: gp.height,
  seed: gp.seed,
  num_images: gp.num_images,
} } };

// openai_read.js: data[].b64_json (or data[].url) → images. OpenAI takes no
// seed, so none is reported.
const res = $json;
const err = providerError(res);
if (err) return err;
const body = res.body || {};
const images = [];
for (const d of Array.isArray(body.data) ? body.data : []) {
  if (d && d.b64_json) images.push({ base64: d.b64_json, width: gp.width, height: gp.height });
  else if (d && d.url) images.push({ url: d.url, width: gp.width, height: gp.height });
}
if (images.length === 0) return noImage(body);
return success(images);

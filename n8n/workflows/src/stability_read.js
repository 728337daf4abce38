// stability_read.js: {image, finish_reason, seed} → one image.
const res = $json;
const err = providerError(res);
if (err) return err;
const body = res.body || {};
if (body.finish_reason === 'CONTENT_FILTERED') return failure('content_filtered', 'Stability filtered the image (finish_reason CONTENT_FILTERED)');
if (!body.image) return noImage(body);
return success([{ base64: body.image, mime_type: 'image/png', seed: body.seed !== undefined ? Number(body.seed) : gp.seed }]);

// callback_body.js: the one place the callback payload (DESIGN §5) is built.
// Success needs at least one image; anything else is a failure.
const result = $json;
const images = Array.isArray(result.images) ? result.images.filter((i) => i && (i.url || i.base64)) : [];
let payload;
if (result.ok === true && images.length > 0) {
  payload = {
    ai_generation_request_id: req.ai_generation_request_id,
    status: 'success',
    images: images,
    model_id: gp.model_id,
    execution_id: $execution.id,
  };
} else {
  payload = {
    ai_generation_request_id: req.ai_generation_request_id,
    status: 'failed',
    error_code: result.error_code || 'provider_no_image',
    error_message: result.error_message || 'the provider answered without an image',
    execution_id: $execution.id,
  };
}
return { json: { payload: JSON.stringify(payload), failed: payload.status === 'failed', error_code: payload.error_code || '', error_message: payload.error_message || '' } };

// comfyui_image.js: the fetched /view file (turned into base64 by the
// Extract From File node) → one image.
if (!$json.image_base64) return noImage($json);
return success([{ base64: $json.image_base64, width: gp.width, height: gp.height, seed: gp.seed }]);

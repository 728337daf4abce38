// dry_run.js: a built-in image, sent without calling the provider, proves
// that n8n reaches the callback URL end to end.
return success([{ base64: DRY_RUN_PNG, mime_type: 'image/png', width: DRY_RUN_SIZE, height: DRY_RUN_SIZE, seed: gp.seed }]);

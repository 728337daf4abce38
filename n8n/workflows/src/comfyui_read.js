// comfyui_read.js: reads the /prompt answer or a /history/{id} poll into
// {pending, poll_url, deadline}, a /view URL to fetch, or a failure.
const res = $json;
const err = providerError(res);
if (err) return err;
const body = res.body || {};
const first = $('Read submission').isExecuted ? $('Read submission').first().json : {};
const deadline = first.deadline || Date.now() + Number(settings.deadline_seconds || 900) * 1000;
const promptID = first.prompt_id || body.prompt_id;
if (!promptID) return failure('provider_no_image', 'ComfyUI gave no prompt_id: ' + clip(body, 200));
const entry = body[promptID];
if (entry && entry.status && entry.status.status_str === 'error') {
  const msgs = (entry.status.messages || []).filter((m) => m[0] === 'execution_error').map((m) => m[1] && m[1].exception_message);
  return failure('provider_failed', msgs[0] || 'ComfyUI reported an error');
}
if (entry && entry.outputs) {
  for (const out of Object.values(entry.outputs)) {
    for (const img of (out && out.images) || []) {
      const q = 'filename=' + encodeURIComponent(img.filename) + '&subfolder=' + encodeURIComponent(img.subfolder || '') + '&type=' + encodeURIComponent(img.type || 'output');
      return { json: { ok: false, fetch_url: providerURL + '/view?' + q } };
    }
  }
  if (entry.status && entry.status.completed) return noImage(entry.outputs);
}
if (Date.now() > deadline) return failure('provider_timeout', 'no image after ' + Number(settings.deadline_seconds || 900) + ' s (prompt ' + promptID + ')');
return { json: { ok: false, pending: true, prompt_id: promptID, poll_url: providerURL + '/history/' + encodeURIComponent(promptID), deadline: deadline } };

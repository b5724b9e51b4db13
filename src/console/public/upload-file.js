// The upload itself: XMLHttpRequest with the File object as its body, so the browser streams the
// file from disk (never into the page's memory) and reports upload progress.
import { csrfHeaders, readResponse } from './api.js';
import { t } from './i18n.js';

export function uploadFile(url, file, contentType, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('content-type', contentType);
    for (const [k, v] of Object.entries(csrfHeaders('POST'))) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
    xhr.addEventListener('load', () => {
      try {
        resolve(readResponse(xhr.status, xhr.responseText));
      } catch (err) {
        reject(err);
      }
    });
    xhr.addEventListener('error', () => reject(new Error(t('error.network'))));
    xhr.send(file);
  });
}

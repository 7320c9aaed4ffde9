// The import page's resumable upload: tus-js-client (vendor/tus-js-client, served by this server)
// sends the file in pieces to the page's tus endpoint, signed in by the session cookie with the
// CSRF token in a header. A reload or a lost connection resumes: the browser keeps the upload's
// address under the file's fingerprint (name, type, size, date), and choosing the same file again
// asks the server for its offset (HEAD) and goes on from there. No inline script (CSP); without
// JavaScript (or tus support) the form posts the file in one piece.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("upload-form");
  if (!form || !window.tus || !window.tus.isSupported) { return; }
  var input = document.getElementById("f-file");
  var button = form.querySelector("button[type=submit]");
  var token = form.querySelector("input[name=csrf_token]").value;
  var endpoint = new URL(form.dataset.tusEndpoint, window.location.href).href;
  var status = document.getElementById("upload-status");
  var bar = document.getElementById("upload-progress");
  var percent = document.getElementById("upload-percent");
  var message = document.getElementById("upload-message");
  var resume = document.getElementById("upload-resume");

  // Say so when this browser holds an unfinished upload for this patient.
  var storage = window.tus.defaultOptions.urlStorage;
  if (storage && storage.findAllUploads) {
    storage.findAllUploads().then(function (uploads) {
      var mine = uploads.filter(function (u) { return u.urlStorageKey.indexOf(endpoint) !== -1; });
      if (mine.length) {
        var name = (mine[0].metadata && mine[0].metadata.filename) || "a file";
        resume.textContent = "The upload of " + name + " did not finish: choose the same file to go on where it stopped.";
        resume.hidden = false;
      }
    });
  }

  function show(sent, total) {
    var value = total ? Math.floor(1000 * sent / total) / 10 : 100;
    bar.value = value;
    bar.textContent = value + " %";
    percent.textContent = value;
  }

  form.addEventListener("submit", function (event) {
    var file = input.files[0];
    if (!file) { return; }
    event.preventDefault();
    button.disabled = true;
    status.hidden = false;
    message.textContent = "Uploading…";
    var upload = new window.tus.Upload(file, {
      endpoint: endpoint,
      chunkSize: Number(form.dataset.chunkSize),
      retryDelays: [0, 1000, 3000, 5000, 10000],
      metadata: { filename: file.name, filetype: file.type },
      headers: { "X-CSRFToken": token },
      removeFingerprintOnSuccess: true,
      onProgress: show,
      onError: function () {
        message.textContent = "The upload stopped (the connection?). Choose the same file again to go on where it stopped.";
        button.disabled = false;
      },
      onSuccess: function (payload) {
        show(1, 1);
        message.textContent = "Uploaded. The import starts…";
        var response = payload && payload.lastResponse;
        var next = response && response.getHeader("Import-Location");
        window.location.assign(next || window.location.href);
      }
    });
    upload.findPreviousUploads().then(function (previous) {
      if (previous.length) {
        upload.resumeFromPreviousUpload(previous[0]);
        message.textContent = "Going on where the last upload stopped…";
      }
      upload.start();
    });
  });
});

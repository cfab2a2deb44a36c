/* The face worker's entry, copied to dist/ by Trunk (index.html): loads the wasm-bindgen glue
   (no-modules) and the detector's wasm (face/src/bin/face-worker.rs). The page starts it as
   `new Worker("/liveform-face_loader.js?v=<build id>")`; the same query goes on both files,
   because the server caches .js and .wasm as immutable and these names carry no content hash
   (Trunk's own data-loader-shim would load them without it, so a cached older build could
   answer a newer page). */
importScripts("./liveform-face.js" + self.location.search);
wasm_bindgen({ module_or_path: "./liveform-face_bg.wasm" + self.location.search }).catch(function (e) {
  postMessage({ error: "the face worker could not start: " + e });
});

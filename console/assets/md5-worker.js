// md5 of a whole File, read in order a chunk at a time off the main thread,
// with hash-wasm (vendored, MIT). Messages out: {read}, then {md5} or {error}.
importScripts('/console/vendor/hash-wasm/md5.umd.min.js');

const chunk = 8 << 20;

onmessage = async (e) => {
  const file = e.data.file;
  try {
    const h = await hashwasm.createMD5();
    h.init();
    let last = 0;
    for (let off = 0; off < file.size; off += chunk) {
      h.update(new Uint8Array(await file.slice(off, off + chunk).arrayBuffer()));
      const read = Math.min(off + chunk, file.size);
      if (read - last >= 64 << 20 || read === file.size) {
        postMessage({ read });
        last = read;
      }
    }
    postMessage({ md5: h.digest('hex') });
  } catch (err) {
    postMessage({ error: String(err && err.message || err) });
  }
};

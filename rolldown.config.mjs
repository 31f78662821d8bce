// Bundles the compiled firmware into one file: loading ~1,000 small modules was most of the start-up time.
// Native addons (and the packages that load them) stay external.
export default {
  input: "dist/firmware/main.js",
  platform: "node",
  external: [
    /^node:/,
    /^better-sqlite3(\/|$)/,
    /^onoff(\/|$)/,
    /^epoll(\/|$)/,
    /^serialport(\/|$)/,
    /^@serialport\//,
  ],
  output: { file: "dist/portcullis.mjs", format: "esm", codeSplitting: false },
};

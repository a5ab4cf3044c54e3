// call runs one function of the Go side (globalThis.amopo, see wasm/page): JSON in, JSON out.
export async function call(name, arg) {
  return JSON.parse(await globalThis.amopo[name](JSON.stringify(arg)));
}

// Reduction over arbitrary axes. An output element o has a base offset from its
// coordinates over the kept axes; the R reduced elements are at base + offset(r), r over
// the reduced axes. Entry point "small": one invocation per output (few reduced
// elements); "large": one workgroup per output, tree-reduced in workgroup memory.
// params: [0] nOut, [1] R, [2] nk, [3] nr, [4] bits of the initial value, then
// keptDims[nk], keptStrides[nk], redDims[nr], redStrides[nr].
@group(0) @binding(0) var<storage, read> a: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> out: array<{{T}}>;
@group(0) @binding(2) var<storage, read> params: array<u32>;

fn combine(x: {{T}}, y: {{T}}) -> {{T}} {
  {{COMBINE}}
}

fn base_offset(o: u32) -> u32 {
  let nk = params[2];
  var rem = o;
  var off = 0u;
  for (var d = nk; d > 0u; d = d - 1u) {
    let dim = params[4u + d];
    off = off + (rem % dim) * params[4u + nk + d];
    rem = rem / dim;
  }
  return off;
}

fn red_offset(r: u32) -> u32 {
  let nk = params[2];
  let nr = params[3];
  let start = 4u + 2u * nk;
  var rem = r;
  var off = 0u;
  for (var d = nr; d > 0u; d = d - 1u) {
    let dim = params[start + d];
    off = off + (rem % dim) * params[start + nr + d];
    rem = rem / dim;
  }
  return off;
}

@compute @workgroup_size(64)
fn small(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = linear_id(gid, nwg);
  if (o >= params[0]) { return; }
  let base = base_offset(o);
  var acc = bitcast<{{T}}>(params[4]);
  let n = params[1];
  for (var r = 0u; r < n; r = r + 1u) {
    acc = combine(acc, a[base + red_offset(r)]);
  }
  out[o] = acc;
}

var<workgroup> partial: array<{{T}}, 64>;

@compute @workgroup_size(64)
fn large(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
         @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = wid.x + wid.y * nwg.x;
  let valid = o < params[0];
  var acc = bitcast<{{T}}>(params[4]);
  if (valid) {
    let base = base_offset(o);
    let n = params[1];
    for (var r = lid; r < n; r = r + 64u) {
      acc = combine(acc, a[base + red_offset(r)]);
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      partial[lid] = combine(partial[lid], partial[lid + s]);
    }
    workgroupBarrier();
  }
  if (valid && lid == 0u) {
    out[o] = partial[0];
  }
}

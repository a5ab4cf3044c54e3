// XLA ScatterSum (add) of updates into out (already holding a copy of the operand),
// with int32 indices. For an update coordinate c: the scatter axes select an index
// vector in idx whose entries are added to the coordinates of the operand axes they map
// to; the window axes add c_d to their operand axis. Updates whose operand coordinate
// falls outside the operand are skipped. Float adds use a compare-and-swap loop.
// params: [0] n, [1] updRank, [2] numIdx, [3] ivStride, [4] opRank, then opDims[opRank],
// opStrides[opRank], then updRank x (dim, idxStride, opAxis or 0xffffffff), then
// numIdx x opAxis.
@group(0) @binding(0) var<storage, read> upd: array<{{T}}>;
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read> params: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg);
  if (i >= params[0]) { return; }
  let updRank = params[1];
  let opRank = params[4];
  var coord: array<i32, 8>;
  for (var k = 0u; k < 8u; k = k + 1u) { coord[k] = 0; }
  let u0 = 5u + 2u * opRank;
  var rem = i;
  var idxOff = 0u;
  for (var d = updRank; d > 0u; d = d - 1u) {
    let base = u0 + 3u * (d - 1u);
    let dim = params[base];
    let c = rem % dim;
    rem = rem / dim;
    idxOff = idxOff + c * params[base + 1u];
    let ax = params[base + 2u];
    if (ax != 0xffffffffu) { coord[ax] = coord[ax] + i32(c); }
  }
  let s0 = u0 + 3u * updRank;
  let nIdx = params[2];
  for (var j = 0u; j < nIdx; j = j + 1u) {
    let ax = params[s0 + j];
    coord[ax] = coord[ax] + idx[idxOff + j * params[3]];
  }
  var off = 0u;
  for (var k = 0u; k < opRank; k = k + 1u) {
    let x = coord[k];
    if (x < 0 || u32(x) >= params[5u + k]) { return; }
    off = off + u32(x) * params[5u + opRank + k];
  }
  let v = upd[i];
  {{ADD}}
}

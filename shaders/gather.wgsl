// XLA Gather of 32-bit words with int32 indices. For an output coordinate c: the batch
// axes select an index vector in idx (offset sum_d c_d*idxStride_d), whose entries give
// the start of the slice on the operand axes of startIndexMap, clamped to
// [0, dim - sliceSize]; the offset axes walk the slice (operand offset sum_d c_d*opStride_d).
// params: [0] n, [1] outRank, [2] numIdx, [3] ivStride, then outRank x (dim, idxStride,
// opStride), then numIdx x (maxStart, opStride).
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<storage, read> params: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg);
  if (i >= params[0]) { return; }
  let rank = params[1];
  var rem = i;
  var idxOff = 0u;
  var opOff = 0u;
  for (var d = rank; d > 0u; d = d - 1u) {
    let base = 4u + 3u * (d - 1u);
    let dim = params[base];
    let c = rem % dim;
    rem = rem / dim;
    idxOff = idxOff + c * params[base + 1u];
    opOff = opOff + c * params[base + 2u];
  }
  let s0 = 4u + 3u * rank;
  let nIdx = params[2];
  for (var j = 0u; j < nIdx; j = j + 1u) {
    let v = idx[idxOff + j * params[3]];
    let start = clamp(v, 0, bitcast<i32>(params[s0 + 2u * j]));
    opOff = opOff + u32(start) * params[s0 + 2u * j + 1u];
  }
  out[i] = a[opOff];
}

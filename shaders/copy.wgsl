// Strided copy of 32-bit words: out[outOff + sum_d c_d*os_d] = a[inOff + sum_d c_d*is_d]
// for every coordinate c of dims. It implements Transpose, BroadcastInDim (stride 0),
// Slice, Reverse (negative strides), Concatenate (one launch per operand) and copies; a
// 64-bit dtype is copied as a trailing axis of 2 words.
// params: [0] n, [1] rank, [2] inOff, [3] outOff, then dims[rank], is[rank], os[rank]
// (strides as i32 bits).
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> params: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg);
  if (i >= params[0]) { return; }
  let rank = params[1];
  var ii = bitcast<i32>(params[2]);
  var oo = bitcast<i32>(params[3]);
  var rem = i;
  for (var d = rank; d > 0u; d = d - 1u) {
    let dim = params[3u + d];
    let c = i32(rem % dim);
    rem = rem / dim;
    ii = ii + c * bitcast<i32>(params[3u + rank + d]);
    oo = oo + c * bitcast<i32>(params[3u + 2u * rank + d]);
  }
  out[u32(oo)] = a[u32(ii)];
}

// Batched matrix multiplication out[b, m, n] = sum_k a[b, m, k] * b[b, k, n], with the
// operands read through strides (so transposed layouts need no copy), tiled in
// workgroup memory: a 64x64 output tile per workgroup of 16x16 invocations, each
// computing a 4x4 block. params: [0] M, [1] N, [2] K, [3] aB, [4] aM, [5] aK, [6] bB,
// [7] bK, [8] bN.
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> params: array<u32>;

const TILE: u32 = 64u;
const KT: u32 = 16u;
var<workgroup> ta: array<f32, 1024>; // [TILE rows][KT]
var<workgroup> tb: array<f32, 1024>; // [KT][TILE cols]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let M = params[0];
  let N = params[1];
  let K = params[2];
  let batch = wid.z;
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let aBase = batch * params[3];
  let bBase = batch * params[6];
  var acc: array<f32, 16>;
  for (var t = 0u; t < 16u; t = t + 1u) { acc[t] = 0.0; }
  let nTiles = (K + KT - 1u) / KT;
  for (var kt = 0u; kt < nTiles; kt = kt + 1u) {
    let k0 = kt * KT;
    // 256 invocations load 1024 values of each tile: 4 each.
    for (var l = 0u; l < 4u; l = l + 1u) {
      let e = li + l * 256u;
      // a tile: e = r*KT + k
      let ar = row0 + e / KT;
      let ak = k0 + e % KT;
      var va = 0.0;
      if (ar < M && ak < K) { va = a[aBase + ar * params[4] + ak * params[5]]; }
      ta[e] = va;
      // b tile: e = k*TILE + c
      let bk = k0 + e / TILE;
      let bc = col0 + e % TILE;
      var vb = 0.0;
      if (bk < K && bc < N) { vb = b[bBase + bk * params[7] + bc * params[8]]; }
      tb[e] = vb;
    }
    workgroupBarrier();
    for (var k = 0u; k < KT; k = k + 1u) {
      var av: array<f32, 4>;
      for (var i = 0u; i < 4u; i = i + 1u) { av[i] = ta[(lid.y * 4u + i) * KT + k]; }
      for (var j = 0u; j < 4u; j = j + 1u) {
        let bv = tb[k * TILE + lid.x * 4u + j];
        for (var i = 0u; i < 4u; i = i + 1u) { acc[i * 4u + j] = acc[i * 4u + j] + av[i] * bv; }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    let r = row0 + lid.y * 4u + i;
    for (var j = 0u; j < 4u; j = j + 1u) {
      let c = col0 + lid.x * 4u + j;
      if (r < M && c < N) { out[batch * M * N + r * N + c] = acc[i * 4u + j]; }
    }
  }
}

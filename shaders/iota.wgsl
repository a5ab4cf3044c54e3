// Iota: out[i] = (i / stride) % dim. params: [0] n, [1] stride, [2] dim.
@group(0) @binding(0) var<storage, read_write> out: array<{{TO}}>;
@group(0) @binding(1) var<storage, read> params: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_id(gid, nwg);
  if (i >= params[0]) { return; }
  out[i] = {{TO}}((i / params[1]) % params[2]);
}

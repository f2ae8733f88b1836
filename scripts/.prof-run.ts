import { cpu, F, Generator, nn, randn, type Tensor } from '../src/runtime/index';
import { instantiateBlock } from '../src/twins/registry';
const which = process.argv[2];
const g = new Generator(0); const dev = cpu;
let run: () => Tensor;
if (which === 'attn') { const [q, k, v] = [randn([1, 1024, 64], g, dev), randn([1, 1024, 64], g, dev), randn([1, 1024, 64], g, dev)]; run = () => F.scaledDotProductAttention(q, k, v); }
else if (which === 'mha') { const mha = new nn.MultiheadAttention(256, 8, { batch_first: true, generator: g, device: dev }); const x = randn([2, 512, 256], g, dev); run = () => mha.forward(x, x, x, { need_weights: false })[0]; }
else if (which === 'sagan') { const m = instantiateBlock('sagan-spatial', { in_channels: 32, k: 8, spectral_norm: false }, { generator: g, device: dev }); const x = randn([1, 32, 64, 64], g, dev); run = () => (m.forward(x) as Tensor[])[0]; }
else { const m = instantiateBlock('non-local', { in_channels: 64, inter_channels: null, dimension: '2', mode: 'embedded_gaussian', sub_sample: true, bn_layer: true, need_weights: false }, { generator: g, device: dev }); const x = randn([1, 64, 32, 32], g, dev); run = () => m.forward(x) as Tensor; }
const n = Number(process.argv[3] ?? 10);
for (let i = 0; i < n; i++) run().dataSync();

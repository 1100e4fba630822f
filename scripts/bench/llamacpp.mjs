// llama.cpp's side of the side-by-side CPU benchmark (issue 12), through node-llama-cpp's
// prebuilt CPU build. Usage: node llamacpp.mjs MODEL.gguf PROMPTS.json THREADS MAX_TOKENS RUNS
// PROMPTS.json: [{"name": "...", "system": "...", "user": "..."}]. Prints one JSON line per
// prompt with medians: prompt_tokens, prompt_tps, gen_tokens, gen_tps, ttft_s, and load_s.
import { getLlama } from "node-llama-cpp";
import fs from "node:fs";

const [model_path, prompts_path, threads_arg, max_arg, runs_arg] = process.argv.slice(2);
const threads = Number(threads_arg ?? 2);
const maxTokens = Number(max_arg ?? 64);
const runs = Number(runs_arg ?? 3);
const prompts = JSON.parse(fs.readFileSync(prompts_path, "utf8"));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => Number(process.hrtime.bigint()) / 1e9;

const llama = await getLlama({ gpu: false, build: "never" });
let start = now();
const model = await llama.loadModel({ modelPath: model_path, gpuLayers: 0, useMmap: true });
const load_s = now() - start;

// SmolLM2's chat template (ChatML), the same text Steward's engine builds.
const chatml = (p) =>
  `<|im_start|>system\n${p.system}<|im_end|>\n<|im_start|>user\n${p.user}<|im_end|>\n<|im_start|>assistant\n`;

for (const prompt of prompts) {
  const tokens = model.tokenize(chatml(prompt), true);
  const samples = [];
  for (let run = 0; run < runs; run++) {
    const context = await model.createContext({ contextSize: 2048, threads, batchSize: 512 });
    const sequence = context.getSequence();
    start = now();
    let first = null;
    let generated = 0;
    for await (const token of sequence.evaluate(tokens, { temperature: 0 })) {
      if (first === null) first = now();
      generated += 1;
      if (generated >= maxTokens || model.isEogToken(token)) break;
    }
    const end = now();
    samples.push({ ttft: first - start, gen: generated, gen_s: end - first });
    await context.dispose();
  }
  const ttft = median(samples.map((s) => s.ttft));
  const gen_tps = median(samples.map((s) => (s.gen - 1) / s.gen_s));
  console.log(JSON.stringify({
    engine: "llama.cpp", prompt: prompt.name, prompt_tokens: tokens.length,
    prompt_tps: tokens.length / ttft, ttft_s: ttft,
    gen_tokens: median(samples.map((s) => s.gen)), gen_tps, load_s, threads,
  }));
}

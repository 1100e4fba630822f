//! One generation on llama.cpp, on a blocking thread: the chat template, prompt processing in
//! chunks, sampling (greedy, a temperature, or llguidance's JSON constraint), stop strings,
//! whole UTF-8 pieces into the stream, and the statistics the scheduler reports.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaChatMessage;
use llama_cpp_2::sampling::LlamaSampler;
use llguidance::api::TopLevelGrammar;
use llguidance::{Matcher, ParserFactory};
use tokio::sync::mpsc;

use super::Loaded;
use crate::llm::stream::{GenerationStats, StreamEvent};
use crate::llm::{BackendJob, ChatRequest, ChatRole, LlmError};

/// Prompt tokens per decode call. Between calls the thread checks whether the caller is still
/// there, so a member's question waits at most one chunk (about 0.4 s on 2 cores) for a
/// background prompt it preempts; larger chunks gain little on the CPU.
const PREFILL_CHUNK: usize = 128;

/// Runs `job` and streams it into `sink`; returns quietly when the caller has gone (`sink`
/// closed or `stop` set).
pub(super) fn run(
    loaded: &Loaded,
    job: BackendJob,
    sink: &mpsc::Sender<StreamEvent>,
    stop: &AtomicBool,
) -> Result<(), LlmError> {
    let started = Instant::now();
    let request = &job.request;
    let prompt = chat_prompt(loaded, request)?;
    let vocab = loaded.model.vocab();
    let tokens = vocab.tokenize(prompt.as_bytes(), true, true);
    let context_limit = loaded.model.n_ctx_train() as usize;
    if tokens.len() + 1 >= context_limit {
        return Err(LlmError::InvalidRequest(format!(
            "the prompt has {} tokens; the model's context holds {context_limit}",
            tokens.len()
        )));
    }
    let max_new_tokens = request.max_new_tokens.min(context_limit - tokens.len() - 1);
    // A context just large enough for this job: its cache is allocated per job.
    let context_tokens = (tokens.len() + max_new_tokens + 1).next_multiple_of(256);
    let threads = i32::try_from(loaded.threads).unwrap_or(i32::MAX);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(context_tokens.min(context_limit) as u32))
        .with_n_batch(PREFILL_CHUNK as u32)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let mut context = loaded
        .model
        .new_context(loaded.backend, params)
        .map_err(|error| LlmError::Generation(format!("llama.cpp context: {error}")))?;
    let mut sampler = sampler(loaded, request, job.json_schema)?;

    // Prompt processing, a chunk at a time; only the last token's logits are needed.
    let mut batch = LlamaBatch::new(PREFILL_CHUNK.max(1), 1);
    for (chunk_index, chunk) in tokens.chunks(PREFILL_CHUNK).enumerate() {
        if stop.load(Ordering::Relaxed) || sink.is_closed() {
            return Ok(());
        }
        batch.clear();
        let offset = chunk_index * PREFILL_CHUNK;
        for (i, token) in chunk.iter().enumerate() {
            let position = offset + i;
            batch
                .add(*token, position as i32, &[0], position + 1 == tokens.len())
                .map_err(|error| LlmError::Generation(format!("llama.cpp batch: {error}")))?;
        }
        decode(&mut context, &mut batch)?;
    }
    let prefilled = started.elapsed();

    let mut stats = GenerationStats {
        prompt_tokens: tokens.len(),
        prompt_tokens_per_sec: tokens.len() as f64 / prefilled.as_secs_f64().max(1e-9),
        ..GenerationStats::default()
    };
    let mut text = Pieces::new(&request.stop);
    let mut position = tokens.len();
    let mut generated = 0usize;
    let finish_reason = loop {
        // A piece may be held back (a cut character, a possible stop string), so the closed
        // sink is checked here too, not only when sending.
        if stop.load(Ordering::Relaxed) || sink.is_closed() {
            return Ok(());
        }
        if generated >= max_new_tokens {
            break "length";
        }
        let token = sampler.sample(&context, batch.n_tokens() - 1);
        if vocab.is_eog(token) {
            break "stop";
        }
        generated += 1;
        let (piece, stopped) = text.push(&vocab.token_to_piece(token, false, None));
        if !piece.is_empty() {
            stats
                .first_text_after
                .get_or_insert_with(|| started.elapsed());
            if sink.blocking_send(StreamEvent::Delta(piece)).is_err() {
                return Ok(()); // Cancelled by the caller.
            }
        }
        if stopped {
            break "stop";
        }
        batch.clear();
        batch
            .add(token, position as i32, &[0], true)
            .map_err(|error| LlmError::Generation(format!("llama.cpp batch: {error}")))?;
        position += 1;
        decode(&mut context, &mut batch)?;
    };
    let rest = text.finish();
    if !rest.is_empty() {
        stats
            .first_text_after
            .get_or_insert_with(|| started.elapsed());
        if sink.blocking_send(StreamEvent::Delta(rest)).is_err() {
            return Ok(());
        }
    }
    stats.generated_tokens = generated;
    stats.total = started.elapsed();
    let generating = stats.total.saturating_sub(prefilled).as_secs_f64();
    stats.generated_tokens_per_sec = if generating > 0.0 {
        generated as f64 / generating
    } else {
        0.0
    };
    stats.finish_reason = Some(finish_reason.to_string());
    // A closed sink here means the caller left after the last piece: nothing to report.
    let _ = sink.blocking_send(StreamEvent::Done(stats));
    Ok(())
}

/// One forward pass at a time in the whole process: every pass already uses all the threads,
/// and two generations deciding at once (two members' questions, or a question and a
/// background batch) would run twice the threads on the same cores, where llama.cpp's
/// spinning thread pool slows down many times over. Taken per pass, so generations take turns
/// token by token (prompt chunk by prompt chunk).
static FORWARD_PASS: Mutex<()> = Mutex::new(());

fn decode(context: &mut LlamaContext<'_>, batch: &mut LlamaBatch<'_>) -> Result<(), LlmError> {
    let _turn = FORWARD_PASS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    context
        .decode(batch)
        .map_err(|error| LlmError::Generation(format!("llama.cpp decode: {error}")))
}

/// The request through the model's own chat template: Steward's system prompt first (always
/// sent, as with mistral.rs), then the turns, then the assistant's opening.
fn chat_prompt(loaded: &Loaded, request: &ChatRequest) -> Result<String, LlmError> {
    let message = |role: &str, content: &str| {
        // A NUL cannot cross into C; members cannot type one, but a document could hold it.
        LlamaChatMessage::new(role.to_string(), content.replace('\0', ""))
            .map_err(|error| LlmError::InvalidRequest(format!("chat message: {error}")))
    };
    let mut chat = vec![message("system", &request.system)?];
    for turn in &request.messages {
        let role = match turn.role {
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
        };
        chat.push(message(role, &turn.content)?);
    }
    loaded
        .model
        .apply_chat_template(&loaded.template, &chat, true)
        .map_err(|error| LlmError::Generation(format!("chat template: {error}")))
}

/// Greedy unless the request sets a temperature; behind llguidance's mask when the output is
/// constrained to a JSON schema.
fn sampler(
    loaded: &Loaded,
    request: &ChatRequest,
    schema: Option<serde_json::Value>,
) -> Result<LlamaSampler, LlmError> {
    let mut chain = Vec::new();
    if let Some(schema) = schema {
        let factory = loaded
            .grammars
            .get_or_init(|| {
                let vocabulary = LlamaSampler::llguidance_tok_env(&loaded.model);
                ParserFactory::new_simple(&vocabulary).map_err(|error| error.to_string())
            })
            .as_ref()
            .map_err(|error| LlmError::Generation(format!("llguidance: {error}")))?;
        let parser = factory
            .create_parser(TopLevelGrammar::from_json_schema(schema))
            .map_err(|error| LlmError::InvalidRequest(format!("JSON schema: {error}")))?;
        chain.push(LlamaSampler::from(Matcher::new(Ok(parser))));
    }
    match request.temperature.filter(|t| *t > 0.0) {
        Some(temperature) => {
            chain.push(LlamaSampler::temp(temperature as f32));
            chain.push(LlamaSampler::dist(rand_seed()));
        }
        None => chain.push(LlamaSampler::greedy()),
    }
    Ok(LlamaSampler::chain_simple(chain))
}

/// A seed for sampling with a temperature (greedy decoding needs none).
fn rand_seed() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or(0)
}

/// The generated text as it grows: token bytes become text only as whole UTF-8 characters
/// (a Chinese character often spans two tokens), and the end of the text is held back while
/// it could still become one of the stop strings, which are never sent.
struct Pieces<'a> {
    stops: &'a [String],
    bytes: Vec<u8>,
    /// How much of the valid text has been handed out.
    sent: usize,
    /// How many bytes a stop string could still need beyond what is sent.
    hold: usize,
}

impl<'a> Pieces<'a> {
    fn new(stops: &'a [String]) -> Self {
        let hold = stops
            .iter()
            .map(|stop| stop.len().saturating_sub(1))
            .max()
            .unwrap_or(0);
        Self {
            stops,
            bytes: Vec::new(),
            sent: 0,
            hold,
        }
    }

    /// Adds a token's bytes; returns the text that may be sent now and whether a stop string
    /// has appeared (the text before it is then all that is sent).
    fn push(&mut self, token: &[u8]) -> (String, bool) {
        self.bytes.extend_from_slice(token);
        let valid = match std::str::from_utf8(&self.bytes) {
            Ok(text) => text,
            Err(error) => {
                std::str::from_utf8(&self.bytes[..error.valid_up_to()]).unwrap_or_default()
            }
        };
        if let Some(at) = self
            .stops
            .iter()
            .filter(|stop| !stop.is_empty())
            .filter_map(|stop| valid.find(stop.as_str()))
            .min()
        {
            let piece = valid.get(self.sent..at).unwrap_or_default().to_string();
            self.sent = at;
            self.bytes.truncate(at);
            return (piece, true);
        }
        let mut end = valid.len().saturating_sub(self.hold).max(self.sent);
        while !valid.is_char_boundary(end) {
            end -= 1;
        }
        let piece = valid[self.sent..end].to_string();
        self.sent = end;
        (piece, false)
    }

    /// What is left to send at the end: held-back text (bytes of a cut character are dropped).
    fn finish(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.bytes).into_owned();
        let text = text.trim_end_matches('\u{FFFD}');
        let rest = text.get(self.sent..).unwrap_or_default().to_string();
        self.sent = text.len();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::Pieces;

    #[test]
    fn a_character_split_across_tokens_is_sent_whole() {
        let mut pieces = Pieces::new(&[]);
        let bytes = "好".as_bytes();
        assert_eq!(pieces.push(&bytes[..2]), (String::new(), false));
        assert_eq!(pieces.push(&bytes[2..]), ("好".to_string(), false));
        assert_eq!(pieces.finish(), "");
    }

    #[test]
    fn a_stop_string_across_tokens_is_never_sent() {
        let stops = vec!["\n\nUser:".to_string()];
        let mut pieces = Pieces::new(&stops);
        let mut sent = String::new();
        for token in ["Paris", ".", "\n\n", "User", ":", " more"] {
            let (piece, stopped) = pieces.push(token.as_bytes());
            sent.push_str(&piece);
            if stopped {
                break;
            }
        }
        sent.push_str(&pieces.finish());
        assert_eq!(sent, "Paris.");
    }

    #[test]
    fn held_back_text_comes_out_at_the_end() {
        let stops = vec!["###".to_string()];
        let mut pieces = Pieces::new(&stops);
        let (first, stopped) = pieces.push(b"done #");
        assert!(!stopped);
        assert_eq!(first, "done");
        assert_eq!(pieces.finish(), " #");
    }
}

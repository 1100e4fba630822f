//! Constrained output: ask for JSON matching a Rust type's schema and parse it.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::{ChatRequest, Engine, LlmError};

/// Generates a value of type `T`: the backend constrains decoding to `T`'s JSON schema, so the
/// output always parses when the backend honours the constraint; if it does not, the error says
/// what came back.
pub async fn generate_structured<T>(
    engine: &dyn Engine,
    request: ChatRequest,
) -> Result<T, LlmError>
where
    T: DeserializeOwned + JsonSchema,
{
    let schema = serde_json::to_value(schemars::schema_for!(T))
        .map_err(|e| LlmError::InvalidRequest(format!("schema for the requested type: {e}")))?;
    let value = engine.generate_json(request, schema).await?;
    serde_json::from_value(value.clone())
        .map_err(|e| LlmError::BadStructuredOutput(format!("{e}: {value}")))
}

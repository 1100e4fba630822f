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
    let mut schema = serde_json::to_value(schemars::schema_for!(T))
        .map_err(|e| LlmError::InvalidRequest(format!("schema for the requested type: {e}")))?;
    close_objects(&mut schema);
    let value = engine.generate_json(request, schema).await?;
    serde_json::from_value(value.clone())
        .map_err(|e| LlmError::BadStructuredOutput(format!("{e}: {value}")))
}

/// Marks every object schema that lists its properties and says nothing of others as closed
/// (`additionalProperties: false`). A Rust type ignores extra fields anyway, and a small model
/// left free to add them ("type": "text", ...) can run out of tokens before the object closes;
/// closed, the grammar ends the object once the type's own fields are written.
fn close_objects(schema: &mut serde_json::Value) {
    match schema {
        serde_json::Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert(
                    "additionalProperties".to_string(),
                    serde_json::Value::Bool(false),
                );
            }
            for (key, value) in map.iter_mut() {
                // `properties` maps names to schemas: a property named "properties" is not one.
                if key == "properties" || key == "$defs" || key == "definitions" {
                    if let serde_json::Value::Object(children) = value {
                        children.values_mut().for_each(close_objects);
                    }
                } else {
                    close_objects(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::close_objects;
    use serde_json::json;

    #[test]
    fn objects_with_properties_are_closed_and_explicit_choices_kept() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "label": { "type": "string" },
                "properties": { "type": "object", "properties": { "x": { "type": "integer" } } },
                "extra": { "type": "object", "properties": {}, "additionalProperties": true }
            },
            "$defs": { "Inner": { "type": "object", "properties": { "y": { "type": "string" } } } }
        });
        close_objects(&mut schema);
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(
            schema["properties"]["properties"]["additionalProperties"],
            false
        );
        assert_eq!(schema["properties"]["extra"]["additionalProperties"], true);
        assert_eq!(schema["$defs"]["Inner"]["additionalProperties"], false);
        assert!(schema["properties"]["label"]
            .get("additionalProperties")
            .is_none());
    }
}

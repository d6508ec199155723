//! The OpenAPI document describes the router as it is: the same paths with the same
//! methods, every schema it names defined, and the JSON the routes answer shaped as it
//! says.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::Value;

use super::App;

/// The methods a route may answer.
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
];

/// The API paths the router holds, read from its own description of itself (axum lists
/// its routes' paths in its `Debug` output), without the catch-all for unknown paths.
fn routed_paths(app: &App) -> BTreeSet<String> {
    format!("{:?}", app.router)
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|text| text.starts_with("/api/") && *text != super::super::UNKNOWN_API_PATHS)
        .map(str::to_owned)
        .collect()
}

/// `path` with sample values for its parameters.
fn concrete(path: &str) -> String {
    path.replace("{id}", "0123456789abcdef")
        .replace("{split}", "train")
        .replace("{index}", "0")
        .replace("{number}", "2")
}

/// (method, path) of every route: a method is routed unless the router answers 405.
async fn routes_of_the_router(app: &App) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for path in routed_paths(app) {
        for method in METHODS {
            let answer = app.send(method.clone(), &concrete(&path), false, "").await;
            if answer.status != StatusCode::METHOD_NOT_ALLOWED {
                routes.insert((method.to_string(), path.clone()));
            }
        }
    }
    routes
}

fn document() -> Value {
    serde_json::from_str(crate::http::openapi::json()).unwrap()
}

/// (method, path) of every operation the document describes.
fn described_routes(document: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method.as_str().to_lowercase()).is_some() {
                routes.insert((method.to_string(), path.clone()));
            }
        }
    }
    routes
}

/// The router and the document are built from one list (`api_routes`), so they agree by
/// construction unless a route is added around it (`.route(...)`): this catches that, and
/// a method routed on a path without its description.
#[tokio::test]
async fn every_route_is_described_and_every_description_is_routed() {
    let app = App::new(false).await;
    let routed = routes_of_the_router(&app).await;
    let described = described_routes(&document());
    // The router holds the API's routes at all: the list is not empty by accident.
    assert!(
        routed.contains(&("POST".into(), "/api/runs".into())),
        "{routed:?}"
    );
    assert!(routed.len() >= 20, "{routed:?}");
    let undescribed: Vec<_> = routed.difference(&described).collect();
    let unrouted: Vec<_> = described.difference(&routed).collect();
    assert!(
        undescribed.is_empty() && unrouted.is_empty(),
        "routes without a description: {undescribed:?}; descriptions without a route: {unrouted:?}"
    );
}

/// Every operation says what it is and what it answers, every schema it names exists, and
/// the writing routes name the token they need.
#[test]
fn every_operation_is_complete_and_every_schema_defined() {
    let document = document();
    assert_eq!(document["openapi"], "3.1.0");
    let text = document.to_string();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let name = reference.split('"').next().unwrap();
        let name = name
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("a reference outside the schemas: {name}"));
        assert!(
            schemas.contains_key(name),
            "{name} is named but not defined"
        );
    }
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let summary = operation["summary"].as_str().unwrap_or_default();
            assert!(!summary.is_empty(), "{method} {path} has no summary");
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|status| status.starts_with('2')),
                "{method} {path} describes no success"
            );
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    parameter["in"] == "path",
                    in_path,
                    "{method} {path}: parameter {name} is in {}",
                    parameter["in"]
                );
                if in_path {
                    assert_eq!(parameter["required"], true, "{method} {path}: {name}");
                }
            }
            let secured = operation.get("security").is_some();
            assert_eq!(
                secured,
                method != "get",
                "{method} {path}: writes need the token, reads do not"
            );
        }
    }
}

/// Follows `$ref`s to the schema itself.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            resolve(document, &document["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// Checks `value` against `schema` as far as the answers need: types, required
/// properties, array items, references.
fn conforms(document: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(document, schema);
    if let Some(choices) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        // The choice of the value's type (a nullable reference: null or the type itself;
        // a tagged enum: the object whose tag matches), checked in depth.
        let fits = |choice: &Value| {
            let choice = resolve(document, choice);
            let typed = match &choice["type"] {
                Value::String(t) => type_matches(t, value),
                Value::Array(ts) => ts
                    .iter()
                    .any(|t| t.as_str().is_some_and(|t| type_matches(t, value))),
                _ => true,
            };
            let tagged = choice["properties"].as_object().is_none_or(|properties| {
                properties.iter().all(|(name, property)| {
                    property["enum"]
                        .as_array()
                        .is_none_or(|allowed| value.get(name).is_none_or(|v| allowed.contains(v)))
                })
            });
            typed && tagged
        };
        let choice = choices
            .iter()
            .find(|choice| fits(choice))
            .unwrap_or_else(|| panic!("{at}: {value} matches none of {schema}"));
        conforms(document, choice, value, at);
        return;
    }
    if let Some(parts) = schema["allOf"].as_array() {
        for part in parts {
            conforms(document, part, value, at);
        }
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return,
    };
    assert!(
        types.iter().any(|t| type_matches(t, value)),
        "{at}: {value} is not {types:?}"
    );
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            assert!(object.contains_key(name), "{at}: `{name}` is missing");
        }
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            if let Some(inner) = object.get(name) {
                conforms(document, property, inner, &format!("{at}.{name}"));
            }
        }
    }
    if let Some(items) = value.as_array() {
        for (i, item) in items.iter().enumerate() {
            conforms(document, &schema["items"], item, &format!("{at}[{i}]"));
        }
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    }
}

/// What the JSON routes answer on a store with the shipped results is shaped as the
/// document says.
#[tokio::test]
async fn answers_are_shaped_as_described() {
    let app = App::new(true).await;
    let document = document();
    let runs = app.get("/api/runs?limit=3").await.json();
    let run_id = runs["runs"][0]["id"].as_str().unwrap().to_owned();
    // A model for /api/models to list: weights for one of the shipped runs.
    app.store_weights(&run_id, b"weights").await;
    assert_eq!(
        app.get("/api/models")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let separations = app.get("/api/separations").await.json();
    let separation_id = separations[0]["id"].as_str().unwrap().to_owned();
    for (template, path) in [
        ("/api/health", "/api/health".to_owned()),
        ("/api/datasets", "/api/datasets".to_owned()),
        ("/api/scales", "/api/scales?dataset=spiral".to_owned()),
        ("/api/runs", "/api/runs?limit=3".to_owned()),
        ("/api/runs/{id}", format!("/api/runs/{run_id}")),
        ("/api/models", "/api/models".to_owned()),
        ("/api/separations", "/api/separations".to_owned()),
        (
            "/api/separations/{id}",
            format!("/api/separations/{separation_id}"),
        ),
        ("/api/tables/{number}", "/api/tables/2".to_owned()),
        ("/api/tables/{number}", "/api/tables/1".to_owned()),
        ("/api/findings", "/api/findings".to_owned()),
        ("/api/workers", "/api/workers".to_owned()),
    ] {
        let answer = app.get(&path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        let schema = &document["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"];
        assert!(!schema.is_null(), "{template} describes no JSON answer");
        conforms(&document, schema, &answer.json(), &path);
    }
}

//! What every request passes before the executor, over HTTP and WebSocket alike: automatic
//! persisted queries (APQ) and the alias limit. They run here, once per request, rather than
//! as schema extensions: with any extension installed async-graphql sends every resolved
//! field through the extension chain (a 20-book page is some 180 fields). What that cost is
//! measured in the README's benchmark section ("Measured choices").

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_graphql::futures_util::stream::{self, BoxStream, StreamExt as _};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
use async_graphql::{Data, Executor, Request, Response, ServerError};
use sha2::{Digest as _, Sha256};
use tracing::Instrument as _;

use super::aliases::{aliases, repeated_root_fields};
use super::{BffSchema, Limits};
use crate::metrics::{OpenSubscription, Operation, OperationNames};

/// The schema behind APQ and the alias limit; what the HTTP and WebSocket handlers run.
#[derive(Clone)]
pub struct GuardedSchema {
    schema: BffSchema,
    /// Registered documents by the SHA-256 of their text, least recently used out first.
    persisted: Arc<Mutex<lru::LruCache<String, ExecutableDocument>>>,
    /// Documents parsed lately, by their text: a storefront sends the same few queries over
    /// and over, and parsing one costs more than copying its document.
    parsed: Arc<Mutex<lru::LruCache<String, ExecutableDocument>>>,
    max_aliases: usize,
    /// How requests are labelled in the metrics.
    names: Arc<OperationNames>,
}

impl std::fmt::Debug for GuardedSchema {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("GuardedSchema")
            .field("max_aliases", &self.max_aliases)
            .finish_non_exhaustive()
    }
}

/// How many parsed documents [`GuardedSchema`] keeps, each from a text of at most
/// [`PARSED_QUERY_MAX_BYTES`]: a few MiB at worst, whatever clients send.
const PARSED_DOCUMENTS: NonZeroUsize = NonZeroUsize::new(128).expect("not zero");
/// The longest query text whose document is kept (a storefront's page query is a few hundred
/// bytes).
const PARSED_QUERY_MAX_BYTES: usize = 4096;

/// The `persistedQuery` request extension (Apollo's APQ, version 1).
#[derive(serde::Deserialize)]
struct PersistedQuery {
    version: i32,
    #[serde(rename = "sha256Hash")]
    sha256_hash: String,
}

impl GuardedSchema {
    pub fn new(schema: BffSchema, limits: Limits) -> Self {
        let capacity = NonZeroUsize::new(limits.persisted_queries).unwrap_or(NonZeroUsize::MIN);
        let names = Arc::new(OperationNames::new(&schema.sdl()));
        Self {
            names,
            schema,
            persisted: Arc::new(Mutex::new(lru::LruCache::new(capacity))),
            parsed: Arc::new(Mutex::new(lru::LruCache::new(PARSED_DOCUMENTS))),
            max_aliases: limits.max_aliases,
        }
    }

    /// Resolves a persisted query and applies the alias limit, leaving the parsed document on
    /// the request so the executor does not parse it again.
    ///
    /// # Errors
    /// An unknown or mismatched persisted-query hash, or too many aliases; the messages are
    /// those of async-graphql's APQ extension, which clients recognise.
    pub fn admit(&self, mut request: Request) -> Result<Request, ServerError> {
        self.parse_once(&mut request);
        if let Some(value) = request.extensions.remove("persistedQuery") {
            request = self.resolve_persisted(request, value)?;
        }
        // A document that does not parse is left to the executor, which reports it as usual.
        let max = self.max_aliases;
        if let Ok(document) = request.parsed_query()
            && aliases(document) + repeated_root_fields(document) > max
        {
            return Err(ServerError::new(
                format!("too many aliases or repeated root fields (at most {max})"),
                None,
            ));
        }
        Ok(request)
    }

    fn resolve_persisted(
        &self,
        mut request: Request,
        value: async_graphql::Value,
    ) -> Result<Request, ServerError> {
        let persisted: PersistedQuery = async_graphql::from_value(value)
            .map_err(|_| ServerError::new("Invalid \"PersistedQuery\" extension configuration.", None))?;
        if persisted.version != 1 {
            return Err(ServerError::new(
                format!(
                    "Only the \"PersistedQuery\" extension of version \"1\" is supported, and the current version is \"{}\".",
                    persisted.version
                ),
                None,
            ));
        }
        if request.query.is_empty() {
            let document = self
                .persisted_documents()
                .get(&persisted.sha256_hash)
                .cloned()
                .ok_or_else(|| ServerError::new("PersistedQueryNotFound", None))?;
            request.set_parsed_query(document);
            return Ok(request);
        }
        let hash = format!("{:x}", Sha256::digest(request.query.as_bytes()));
        if persisted.sha256_hash != hash {
            return Err(ServerError::new("provided sha does not match query", None));
        }
        // Parsed before the lock is taken, so a long document holds up no other request.
        let document = request.parsed_query()?.clone();
        self.persisted_documents().put(hash, document);
        Ok(request)
    }

    /// Leaves on `request` the document of its text, from the documents parsed lately when it
    /// is there, else parsed now and kept. A text that does not parse is left to the executor.
    fn parse_once(&self, request: &mut Request) {
        if request.query.is_empty() || request.query.len() > PARSED_QUERY_MAX_BYTES {
            return;
        }
        let cached = self.parsed_documents().get(&request.query).cloned();
        match cached {
            Some(document) => request.set_parsed_query(document),
            None => {
                // Parsed before the lock is taken, so a long document holds up no other request.
                if let Ok(document) = request.parsed_query() {
                    let document = document.clone();
                    self.parsed_documents().put(request.query.clone(), document);
                }
            }
        }
    }

    fn parsed_documents(&self) -> MutexGuard<'_, lru::LruCache<String, ExecutableDocument>> {
        self.parsed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn persisted_documents(&self) -> MutexGuard<'_, lru::LruCache<String, ExecutableDocument>> {
        self.persisted.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one query or mutation, in a span named after the operation.
    pub async fn execute(&self, request: Request) -> Response {
        match self.admit(request) {
            Ok(request) => self.execute_admitted(request).await,
            Err(error) => Response::from_errors(vec![error]),
        }
    }

    /// [`Self::admit`]'s verdict, with how the metrics label the request (read from the
    /// document admit parsed, so it is not parsed twice).
    pub fn admit_labelled(&self, request: Request) -> (Operation, Result<Request, ServerError>) {
        match self.admit(request) {
            Ok(mut request) => (self.names.classify(&mut request), Ok(request)),
            Err(error) => (Operation::unknown(), Err(error)),
        }
    }

    /// Runs a request [`Self::admit`] let through, in a span named after the operation.
    pub async fn execute_admitted(&self, mut request: Request) -> Response {
        let span = operation_span(&mut request);
        self.schema.execute(request).instrument(span).await
    }
}

/// The span of the operation `request` runs (`mutation placeOrder`, `query` for an anonymous
/// one), with the OpenTelemetry GraphQL attributes; a document that does not parse or names
/// no operation it holds gets none (the executor reports why).
fn operation_span(request: &mut Request) -> tracing::Span {
    let chosen = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return tracing::Span::none();
    };
    let (name, operation) = match (&document.operations, chosen) {
        (DocumentOperations::Single(operation), None) => (None, operation),
        (DocumentOperations::Multiple(operations), Some(chosen)) => {
            match operations.get_key_value(chosen.as_str()) {
                Some((name, operation)) => (Some(name.as_str()), operation),
                None => return tracing::Span::none(),
            }
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            match operations.iter().next() {
                Some((name, operation)) => (Some(name.as_str()), operation),
                None => return tracing::Span::none(),
            }
        }
        _ => return tracing::Span::none(),
    };
    let kind = operation.node.ty.to_string();
    let span_name = match name {
        Some(name) => format!("{kind} {name}"),
        None => kind.clone(),
    };
    tracing::info_span!(
        "graphql.operation",
        otel.name = %span_name,
        graphql.operation.type = %kind,
        graphql.operation.name = name,
    )
}

impl Executor for GuardedSchema {
    async fn execute(&self, request: Request) -> Response {
        GuardedSchema::execute(self, request).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        // Over WebSocket: counted at the first answer; a subscription is a live one until
        // its stream is dropped.
        let started = std::time::Instant::now();
        let (operation, admitted) = self.admit_labelled(request);
        let responses = match admitted {
            Ok(request) => self
                .schema
                .execute_stream_with_session_data(request, session_data.unwrap_or_default()),
            Err(error) => stream::once(async move { Response::from_errors(vec![error]) }).boxed(),
        };
        let open = (operation.kind == "subscription").then(OpenSubscription::open);
        let mut first = Some(operation);
        responses
            .map(move |response| {
                let _open = &open;
                if let Some(operation) = first.take() {
                    crate::metrics::operation_answered(&operation, &response, started.elapsed());
                }
                response
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn document(request: &mut Request) -> String {
        format!("{:?}", request.parsed_query().unwrap())
    }

    #[test]
    fn a_query_text_is_parsed_once_and_a_broken_or_long_one_is_never_kept() {
        let guarded = super::super::guarded(Limits::default());
        let topics = "{ topics { name } }";
        let mut first = guarded.admit(Request::new(topics)).unwrap();
        assert_eq!(
            document(&mut first),
            format!("{:?}", parse_query(topics).unwrap())
        );
        assert_eq!(guarded.parsed_documents().len(), 1);

        // The next request with that text gets the kept document, not a parse of its own:
        // a document kept under another text shows which one it got.
        let me = "{ me { id } }";
        guarded
            .parsed_documents()
            .put(me.to_owned(), parse_query(topics).unwrap());
        let mut second = guarded.admit(Request::new(me)).unwrap();
        assert_eq!(
            document(&mut second),
            format!("{:?}", parse_query(topics).unwrap())
        );

        // A text that does not parse is left to the executor's error, and not kept.
        let mut broken = guarded.admit(Request::new("{ topics ")).unwrap();
        assert!(broken.parsed_query().is_err());
        let padded = format!("{topics}{}", " ".repeat(PARSED_QUERY_MAX_BYTES));
        guarded.admit(Request::new(padded)).unwrap();
        assert_eq!(
            guarded.parsed_documents().len(),
            2,
            "only the two short documents"
        );
    }
}

//! The emulator's builder: clients, tokens, records, catalog, the layer's options, the
//! answers.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, any, get};

use super::answer::{self, Echo};
use super::calls::{self, CallLog};
use super::data::{self, DataOp, Rules};
use super::records::Records;
use super::reply::{self, Call, Handler, Reply};
use super::running::RunningEmulator;
use crate::credentials::ApiClient;
use crate::permissions::Catalog;
use crate::scheme::Clock;
use crate::server::{AuthenticatedClient, VerifiedParams};
use crate::server::{
    ClientStore, ClientsFile, MemoryStore, SharedTokens, TokenIssuer, VerifyLayer,
    VerifyLayerBuilder,
};

/// The path at which the emulator issues access tokens.
const GET_ACCESS_TOKEN: &str = "/access/getAccessToken";

/// Where the layer looks clients up.
enum Clients {
    /// The emulator's own, added with [`EmulatorBuilder::client`].
    Memory(MemoryStore),
    /// A store given to [`EmulatorBuilder::clients`].
    Store(Arc<dyn ClientStore>),
}

type Configure = Box<dyn FnOnce(VerifyLayerBuilder) -> VerifyLayerBuilder + Send>;

/// How the verification layer in front of the operations is made.
enum LayerChoice {
    /// From the emulator's clients and tokens, then these changes in order.
    Configure(Vec<Configure>),
    /// This one, as it is.
    Given(VerifyLayer),
}

/// Configures an [`Emulator`](super::Emulator); [`start`](EmulatorBuilder::start) serves it.
pub struct EmulatorBuilder {
    clients: Clients,
    tokens: Option<Arc<dyn TokenIssuer>>,
    catalog: Catalog,
    layer: LayerChoice,
    echo: Echo,
    extra_paths: Vec<String>,
    replaced: BTreeMap<String, Handler>,
    records: Option<Records>,
    clock: Option<Arc<dyn Clock>>,
    rules: Rules,
    record_calls: bool,
}

impl fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field("tokens", &self.tokens.is_some())
            .field("operations", &self.catalog.len())
            .field(
                "layer",
                &match self.layer {
                    LayerChoice::Configure(_) => "built from the emulator's clients",
                    LayerChoice::Given(_) => "given",
                },
            )
            .field("echo", &self.echo)
            .field("extra_paths", &self.extra_paths)
            .field("replaced", &self.replaced.keys().collect::<Vec<_>>())
            .field("records", &self.records)
            .field("first_result_base", &self.rules.first_result_base)
            .field("record_calls", &self.record_calls)
            .finish_non_exhaustive()
    }
}

impl EmulatorBuilder {
    /// See [`Emulator::builder`](super::Emulator::builder).
    pub(super) fn new() -> Self {
        EmulatorBuilder {
            clients: Clients::Memory(MemoryStore::new()),
            tokens: None,
            catalog: Catalog::identity_cloud(),
            layer: LayerChoice::Configure(Vec::new()),
            echo: Echo::Verified,
            extra_paths: Vec::new(),
            replaced: BTreeMap::new(),
            records: None,
            clock: None,
            record_calls: true,
            rules: Rules {
                first_result_base: 1,
            },
        }
    }

    /// The entity records the data operations serve (see [`Records`] for the file format and
    /// what Identity Cloud keeps of each record): `/entity`, `/entity.find`,
    /// `/entity.count`, `/entity.create`, `/entity.update`, `/entity.replace` and
    /// `/entity.delete` then answer from them, and change them, as the module documentation
    /// describes; `/access/getAccessToken` issues tokens for their uuids only. Keep a clone of
    /// `records` to look at them during the test (or use
    /// [`RunningEmulator::records`](super::RunningEmulator::records)).
    ///
    /// Without records, every operation echoes what it verified.
    pub fn records(mut self, records: Records) -> Self {
        self.records = Some(records);
        self
    }

    /// The emulator's clock: the layer judges the `Date` of signed requests by it (before any
    /// [`configure_layer`](Self::configure_layer) step, which may set another), and records
    /// are stamped (`created`, `lastUpdated`) by it. Default: the system's clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Where `entity.find` counts `first_result` from: `1` (the default: `first_result=1` is
    /// the first record), or `0`. Janrain's reference does not say; choose the other if your
    /// Identity Cloud application counts from 0.
    pub fn first_result_base(mut self, base: u64) -> Self {
        self.rules.first_result_base = base;
        self
    }

    /// One more API client the layer authenticates, kept in memory (after
    /// [`clients`](Self::clients), it replaces the store given there).
    pub fn client(mut self, client: ApiClient) -> Self {
        self.clients = match self.clients {
            Clients::Memory(store) => Clients::Memory(store.with(client)),
            Clients::Store(_) => Clients::Memory(MemoryStore::new().with(client)),
        };
        self
    }

    /// The API clients the layer authenticates (a [`MemoryStore`], a Redis store, any
    /// [`ClientStore`]), instead of those added with [`client`](Self::client).
    pub fn clients(mut self, store: impl ClientStore) -> Self {
        self.clients = Clients::Store(Arc::new(store));
        self
    }

    /// The clients and the access tokens of a clients file: the layer authenticates them,
    /// and `/access/getAccessToken` issues tokens next to them.
    pub fn clients_file(self, file: ClientsFile) -> Self {
        let (store, tokens) = file.into_parts();
        self.clients(store).tokens(SharedTokens::new(tokens))
    }

    /// The access tokens: the layer verifies janrain-oauth and login-client tokens with them,
    /// and `/access/getAccessToken` issues new ones into them. Without tokens, that operation
    /// echoes like the others. For [`MemoryTokens`](crate::server::MemoryTokens), pass
    /// `SharedTokens::new(tokens)`.
    pub fn tokens(mut self, tokens: impl TokenIssuer) -> Self {
        self.tokens = Some(Arc::new(tokens));
        self
    }

    /// The operations served and their permissions (default: [`Catalog::identity_cloud`]).
    pub fn catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = catalog;
        self
    }

    /// Change the verification layer's options (clock, date window, body limit, replay
    /// guard, ...): `configure` gets the builder made from the emulator's clients, tokens and
    /// catalog. Calls add up, in order.
    pub fn configure_layer(
        mut self,
        configure: impl FnOnce(VerifyLayerBuilder) -> VerifyLayerBuilder + Send + 'static,
    ) -> Self {
        match &mut self.layer {
            LayerChoice::Configure(steps) => steps.push(Box::new(configure)),
            LayerChoice::Given(_) => {
                self.layer = LayerChoice::Configure(vec![Box::new(configure)]);
            }
        }
        self
    }

    /// Put `layer` in front of the operations, as it is: the emulator's clients, tokens and
    /// layer options are then not used by the layer (the tokens still serve
    /// `/access/getAccessToken`). Replaces [`configure_layer`](Self::configure_layer).
    pub fn layer(mut self, layer: VerifyLayer) -> Self {
        self.layer = LayerChoice::Given(layer);
        self
    }

    /// Where the default answers read the parameters they echo (default
    /// [`Echo::Verified`]).
    pub fn echo(mut self, echo: Echo) -> Self {
        self.echo = echo;
        self
    }

    /// Also serve `path`, which is not in the catalog, with the default answer (the layer
    /// refuses it unless its policy knows the path or allows unknown paths).
    pub fn echo_at(mut self, path: impl Into<String>) -> Self {
        self.extra_paths.push(path.into());
        self
    }

    /// Answer `path` (an operation of the catalog, or any other path) with `answer` instead
    /// of the default, whatever the method. `answer` runs after the layer accepted the request;
    /// it returns anything that becomes a [`Reply`]: a `serde_json::Value`, a
    /// [`JanrainError`](crate::error::JanrainError), a `Result` of them, or a `Reply` with
    /// the status of your choice.
    pub fn on<R: Into<Reply>>(
        mut self,
        path: impl Into<String>,
        answer: impl Fn(Call) -> R + Send + Sync + 'static,
    ) -> Self {
        let handler: Handler = Arc::new(move |call| answer(call).into());
        self.replaced.insert(path.into(), handler);
        self
    }

    /// The operations and their answers as an axum `Router`, without the verification layer:
    /// to put behind a layer of your own.
    pub fn routes(&self) -> Router {
        let mut router = Router::new();
        let paths = self
            .catalog
            .iter()
            .map(|op| op.path())
            .chain(self.extra_paths.iter().map(String::as_str))
            .chain(self.replaced.keys().map(String::as_str));
        let mut seen = std::collections::BTreeSet::new();
        for path in paths {
            if seen.insert(path) {
                router = router.route(path, self.answer_for(path));
            }
        }
        router
    }

    /// The answer of `path`: replaced, issuing tokens, a data operation on the records, or
    /// the echo.
    fn answer_for(&self, path: &str) -> MethodRouter {
        if let Some(handler) = self.replaced.get(path) {
            let handler = handler.clone();
            let answer = move |request: Request| {
                let handler = handler.clone();
                async move { reply::replaced(&handler, request).into_response() }
            };
            return any(answer);
        }
        if let (GET_ACCESS_TOKEN, Some(issuer)) = (path, &self.tokens) {
            let issuer = issuer.clone();
            let records = self.records.clone();
            let answer = move |request: Request| {
                let issuer = issuer.clone();
                let records = records.clone();
                async move {
                    answer::get_access_token(issuer.as_ref(), records.as_ref(), request)
                        .await
                        .into_response()
                }
            };
            return get(answer.clone()).post(answer);
        }
        if let (Some(op), Some(records)) = (DataOp::of(path), &self.records) {
            let records = records.clone();
            let rules = self.rules;
            let answer = move |request: Request| {
                let records = records.clone();
                async move {
                    let extensions = request.extensions();
                    let client = extensions.get::<AuthenticatedClient>();
                    let params = extensions.get::<VerifiedParams>();
                    Reply::from(data::run(op, &records, rules, client, params)).into_response()
                }
            };
            return get(answer.clone()).post(answer);
        }
        match self.echo {
            Echo::Verified => {
                let answer = |request: Request| async move { answer::echo_verified(&request) };
                get(answer).post(answer)
            }
            Echo::Axum => get(answer::echo_axum).post(answer::echo_axum),
        }
    }

    /// The whole emulator as an axum `Router`: the operations behind the verification layer,
    /// to mount in a server of your own. It records no calls (a long-running server would
    /// keep them all): [`start`](Self::start) does.
    pub fn router(self) -> Router {
        self.app(None)
    }

    /// The operations behind the layer; with `log`, every call recorded in it (the recorder
    /// outside the layer, what the layer verified noted inside it).
    fn app(mut self, log: Option<Arc<CallLog>>) -> Router {
        if let (Some(records), Some(clock)) = (&self.records, &self.clock) {
            records.set_clock(clock.clone());
        }
        let mut routes = self.routes();
        if log.is_some() {
            routes = routes.layer(axum::middleware::from_fn(calls::note_verified));
        }
        let clock = self.clock.take();
        let app = routes.layer(self.into_layer(clock));
        match log {
            Some(log) => app.layer(axum::middleware::from_fn_with_state(log, calls::record)),
            None => app,
        }
    }

    /// The verification layer, made as the builder says (on `clock`, if given, before the
    /// builder's own steps).
    fn into_layer(self, clock: Option<Arc<dyn Clock>>) -> VerifyLayer {
        match self.layer {
            LayerChoice::Given(layer) => layer,
            LayerChoice::Configure(steps) => {
                let mut builder = match self.clients {
                    Clients::Memory(store) => VerifyLayer::builder(store),
                    Clients::Store(store) => VerifyLayer::builder(store),
                }
                .catalog(self.catalog);
                if let Some(tokens) = self.tokens {
                    builder = builder.token_verifier(tokens);
                }
                if let Some(clock) = clock {
                    builder = builder.clock(clock);
                }
                steps
                    .into_iter()
                    .fold(builder, |builder, step| step(builder))
            }
            .build(),
        }
    }

    /// Whether the running emulator keeps every call it receives (by default it does). The
    /// calls stay in memory until [`clear_calls`](RunningEmulator::clear_calls), so a load
    /// run or a long-lived emulator turns this off. Without it,
    /// [`calls`](RunningEmulator::calls) is always empty, and setting an expectation panics:
    /// there would be no calls to count.
    pub fn record_calls(mut self, record: bool) -> Self {
        self.record_calls = record;
        self
    }

    /// Serve the emulator on a free port of 127.0.0.1, in a task of the current tokio
    /// runtime, until the handle is dropped or [`shut down`](RunningEmulator::shutdown). The
    /// handle keeps every call the emulator receives, unless
    /// [`record_calls(false)`](Self::record_calls) says not to.
    pub async fn start(self) -> io::Result<RunningEmulator> {
        self.start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serve the emulator on `addr` (port 0: a free one), as [`start`](Self::start) does.
    pub async fn start_on(self, addr: SocketAddr) -> io::Result<RunningEmulator> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let log = Arc::new(CallLog::new(self.record_calls));
        let records = self.records.clone();
        let recorder = self.record_calls.then(|| log.clone());
        RunningEmulator::serve(listener, self.app(recorder), log, records)
    }
}

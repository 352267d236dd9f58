//! Inbound verification: a tower layer for axum (or any tower HTTP server).

// Package app is the domain of InfluenceGen Studio: the request model, its
// state machine, parameter validation, error codes, the event bus and the
// interfaces that the adapters (store, n8n, odoo, ui) implement or consume.
//
// It imports only the standard library. It must never do I/O of its own
// beyond what an injected interface does, so every adapter can be tested
// with fakes of the others and a dependency cycle is impossible.
package app

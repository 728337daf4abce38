// Package odoo adapts Odoo to the app: two RPC clients behind one small
// interface (JSON-2 for Odoo 19+, JSON-RPC for older servers), the mapping
// of both error shapes to app errors, the outbox sync worker, the doctor
// checks, and the addon the records live in (odoo/addon).
//
// It must never write to the local database except through app.Store's
// outbox methods and SetOdooID, never log a key or password, and never log
// in per call (an Odoo 19 password check costs over a second).
package odoo

// Package store owns the SQLite persistence of InfluenceGen Studio: the
// schema and its embedded migrations, the single group-commit writer, the
// read pool, and every SQL statement the program runs. It implements
// app.Store (and, in sibling files, secrets, config and images helpers).
//
// It must never call the network and must never know about the n8n or Odoo
// protocols: it stores what the adapters hand it (payloads are opaque JSON)
// and answers in app types and app errors only.
package store

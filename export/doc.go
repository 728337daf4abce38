// Package export copies chosen images out of influencegen for a campaign
// (issue 14 §6): readable file names, a manifest.json with every
// parameter, and optionally a contact sheet. The CLI's `export` and the
// dashboard call Run. It reads through app.Store and writes only inside
// the target folder; it never overwrites a file there unless told to.
package export

package n8n

// Unreachable exposes the network-cause classifier to the external tests.
var Unreachable = unreachable

package devenv

// CloudRequests returns what the Azure and GCP servers answered, oldest
// first, as "PROVIDER METHOD PATH?QUERY STATUS": the requests libmongocrypt
// really sent, for tests to check and log.
func (e *Env) CloudRequests() []string { return e.cloud.log.snapshot() }

module github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/mixin

go 1.26

require (
	github.com/google/go-jsonnet v0.22.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	golang.org/x/crypto v0.45.0 // indirect
	golang.org/x/sys v0.38.0 // indirect
	sigs.k8s.io/yaml v1.4.0 // indirect
)

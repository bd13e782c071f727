# Half way through the move from a local master key to AWS KMS: both
# providers are configured, so that keys can be unwrapped and rewrapped.
variable "local_key_file" {
  sensitive = true
  default   = "master-key.txt"
}

variable "env" {
  default = "Prod"
}

kms "local" {
  key = trimspace(file(var.local_key_file))
}

kms "aws" {
  region = "eu-central-1"
}

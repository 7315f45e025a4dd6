variable "project_id" {
  description = "Google Cloud project of the secrets."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project ID."
  }
}

variable "region" {
  description = "The one region the secrets are replicated in (the cluster's)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1."
  }
}

variable "secret_ids" {
  description = "Secret Manager secret ID per service (the ExternalSecrets of modules/platform read the same map)."
  type        = map(string)

  validation {
    condition     = alltrue([for id in values(var.secret_ids) : can(regex("^[A-Za-z0-9_-]{1,255}$", id))])
    error_message = "secret IDs may hold letters, digits, dashes and underscores (255 at most)."
  }
}

variable "service_secrets" {
  description = "Environment variables per service (output secrets of modules/service-secrets): each becomes one JSON object."
  type        = map(map(string))
  sensitive   = true
}

variable "reader_service_account" {
  description = "Google service account allowed to read the secrets (the External Secrets controller's, output service_accounts[\"eso\"] of modules/gke)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]+@[a-z0-9-]+\\.iam\\.gserviceaccount\\.com$", var.reader_service_account)) || var.reader_service_account == ""
    error_message = "reader_service_account must be a service account e-mail."
  }
}

variable "labels" {
  description = "Labels added to every secret."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "label keys must be lowercase and start with a letter; values lowercase letters, digits, dashes or underscores."
  }
}

variable "namespace" {
  description = "Namespace of the Helm release (output namespace of modules/platform)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label."
  }
}

variable "release_name" {
  description = "Helm release name: Secrets are named <release>-<service>, as services.<svc>.existingSecret expects."
  type        = string
  default     = "marquee"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$", var.release_name))
    error_message = "release_name must be a DNS label of at most 42 characters."
  }
}

variable "services" {
  description = "Services that get a Secret <release>-<service>."
  type        = list(string)

  validation {
    condition     = alltrue([for s in var.services : contains(["gateway", "auth", "content", "tagging", "billing", "campaign"], s)])
    error_message = "services may only name gateway, auth, content, tagging, billing and campaign."
  }
}

variable "service_secrets" {
  description = "Environment variables per service (output secrets of modules/service-secrets)."
  type        = map(map(string))
  sensitive   = true
}

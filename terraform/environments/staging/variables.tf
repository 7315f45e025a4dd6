variable "region" {
  description = "DigitalOcean region of the staging environment."
  type        = string
  default     = "fra1"

  validation {
    condition     = can(regex("^[a-z]{3}[0-9]$", var.region))
    error_message = "region must be a DigitalOcean region slug such as fra1 or nyc3."
  }
}

variable "bucket_name" {
  description = "Spaces bucket for content assets."
  type        = string
  default     = "marquee-staging-assets"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lowercase letters, digits or dashes."
  }
}

variable "admin_cidrs" {
  description = "Addresses Terraform applies from (CI runner egress, VPN): PostgreSQL trusts them so Terraform can create the services' databases and roles."
  type        = list(string)
  default     = []

  validation {
    condition     = try(alltrue([for c in var.admin_cidrs : can(cidrhost(c, 0)) && tonumber(split("/", c)[1]) >= 16]), false)
    error_message = "admin_cidrs must be IPv4 CIDRs of /16 or narrower."
  }
}

variable "bootstrap_admin_email" {
  description = "E-mail of the first Marquee administrator (password: terraform output -raw bootstrap_admin_password). Empty: none."
  type        = string
  default     = ""

  validation {
    condition     = var.bootstrap_admin_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.bootstrap_admin_email))
    error_message = "bootstrap_admin_email must be empty or an e-mail address."
  }
}

variable "extra_secrets" {
  description = "Secret keys Terraform cannot make, by service (Stripe, Gemini, Google sign-in); pass in a git-ignored *.auto.tfvars or TF_VAR_extra_secrets."
  type        = map(map(string))
  default     = {}
  sensitive   = true
}

"""Scanners over the program that need more than the policy pack: checkov over the offline plan, translated
to a Terraform plan (`tfplan`), and over the image's Dockerfile and the CI workflows (`scan`)."""

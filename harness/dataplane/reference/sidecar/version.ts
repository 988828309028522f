/** The reference sidecar's version string (admin /server_info, reports). */
export const REFERENCE_SIDECAR_VERSION = 'meshproof-reference-sidecar/0.1.0';

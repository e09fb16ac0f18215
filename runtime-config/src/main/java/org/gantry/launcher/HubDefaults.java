package org.gantry.launcher;

/** The hub role's defaults, where neither the command line nor the config folder decides. */
final class HubDefaults {

  /** The embedded broker's MQTT port: the IANA port for MQTT without TLS. */
  static final int MQTT_PORT = 1883;

  /**
   * The management API's port: the usual unprivileged HTTP port. (AWS serves its API on 443 with
   * TLS; the hub has no TLS yet and must not need root.)
   */
  static final int API_PORT = 8080;

  /** The embedded broker's address when the config folder does not set one. */
  static final String BROKER_HOST = "127.0.0.1";

  private HubDefaults() {}
}

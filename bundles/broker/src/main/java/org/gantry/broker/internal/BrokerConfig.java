package org.gantry.broker.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the embedded broker, PID {@code org.gantry.broker}. */
@ObjectClassDefinition(
    name = "Gantry embedded MQTT broker",
    description =
        "The hub role's MQTT 3.1.1 broker (Moquette): plain TCP only, telemetry off, TCP_NODELAY.")
@interface BrokerConfig {

  @AttributeDefinition(
      description =
          "Address to listen on. Keep the loopback default unless gateways on other hosts must"
              + " connect; there is no authentication yet.")
  String host() default "127.0.0.1";

  @AttributeDefinition(description = "TCP port for MQTT (1-65535).")
  int port();

  @AttributeDefinition(
      description =
          "Largest MQTT message accepted, in bytes (at least 131072, so that a 32 KB job document"
              + " and its envelope always fit).")
  int max_message_bytes() default BrokerSettings.MIN_MESSAGE_BYTES;

  @AttributeDefinition(
      description =
          "Folder for the broker's sessions, subscriptions and queued messages; empty keeps them in"
              + " memory only (lost on restart).")
  String data_dir() default "";
}

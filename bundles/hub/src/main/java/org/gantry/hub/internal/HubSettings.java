package org.gantry.hub.internal;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * The validated configuration of the hub.
 *
 * @param mqttUrl broker URL, {@code tcp://host:port} or {@code ssl://host:port}
 * @param clientId MQTT client id
 * @param apiHost address of the management API
 * @param apiPort port of the management API, 1-65535
 * @param dataDir folder of the store, absolute
 * @param arns how ARNs are written
 */
record HubSettings(
    String mqttUrl, String clientId, String apiHost, int apiPort, Path dataDir, Arns arns) {

  HubSettings {
    checkMqttUrl(mqttUrl);
    if (clientId == null || clientId.isEmpty() || clientId.length() > 64) {
      throw new IllegalArgumentException(
          "client.id must be 1-64 characters, got " + (clientId == null ? "none" : clientId));
    }
    if (apiHost == null || apiHost.isBlank()) {
      throw new IllegalArgumentException("api.host must name an address, for example 127.0.0.1");
    }
    if (apiPort < 1 || apiPort > 65_535) {
      throw new IllegalArgumentException("api.port must be 1-65535, got " + apiPort);
    }
    if (dataDir == null) {
      throw new IllegalArgumentException("data.dir must name the hub's data folder");
    }
  }

  static HubSettings of(HubConfig c) {
    if (c.data_dir() == null || c.data_dir().isBlank()) {
      throw new IllegalArgumentException("data.dir must name the hub's data folder");
    }
    return new HubSettings(
        c.mqtt_url(),
        c.client_id(),
        c.api_host(),
        c.api_port(),
        Path.of(c.data_dir()).toAbsolutePath(),
        new Arns(c.region(), c.account_id()));
  }

  private static void checkMqttUrl(String url) {
    String why = null;
    if (url == null || url.isBlank()) {
      why = "it is empty";
    } else {
      try {
        URI u = new URI(url);
        if (!"tcp".equals(u.getScheme()) && !"ssl".equals(u.getScheme())) {
          why = "only tcp:// and ssl:// are supported";
        } else if (u.getHost() == null) {
          why = "it names no host";
        } else if (u.getPort() < 1 || u.getPort() > 65_535) {
          why = "it needs a port 1-65535";
        } else if (!(u.getPath() == null || u.getPath().isEmpty()) || u.getQuery() != null) {
          why = "it must have no path or query";
        }
      } catch (URISyntaxException e) {
        why = e.getMessage();
      }
    }
    if (why != null) {
      throw new IllegalArgumentException(
          "mqtt.url must be tcp://host:port or ssl://host:port, got '" + url + "': " + why);
    }
  }
}

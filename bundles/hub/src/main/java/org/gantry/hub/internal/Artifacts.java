package org.gantry.hub.internal;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.gantry.hub.internal.artifact.ArtifactException;
import org.gantry.hub.internal.artifact.ArtifactHandler;
import org.gantry.hub.internal.artifact.ArtifactStore;
import org.gantry.hub.internal.artifact.ArtifactUploadHandler;
import org.gantry.hub.internal.artifact.PlaceholderResolver;
import org.gantry.hub.internal.artifact.S3Urls;
import org.gantry.hub.internal.artifact.UrlSigner;
import org.gantry.protocol.Limits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The hub's artifacts as the rest of the hub uses them: the store under {@code
 * <data.dir>/artifacts}, the download server that answers presigned URLs (its own listener and
 * threads: a download holds a thread for its length), the signer, and the placeholder resolver that
 * turns a job's document into what a device gets.
 */
final class Artifacts implements AutoCloseable {

  /**
   * Where the download server listens and what URL gateways are given.
   *
   * @param host address to bind
   * @param port port to bind, 0 for a free one
   * @param publicUrl base URL gateways reach the server at; empty for {@code http://host:port}
   * @param maxUploadBytes largest artifact an operator may upload
   */
  record Settings(String host, int port, String publicUrl, long maxUploadBytes) {
    Settings {
      if (host == null || host.isBlank()) {
        throw new IllegalArgumentException(
            "artifacts.host must name an address, for example 127.0.0.1");
      }
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException(
            "artifacts.port must be 0 (a free port) or 1-65535, got " + port);
      }
      if (maxUploadBytes < 1) {
        throw new IllegalArgumentException(
            "artifacts.max.bytes must be at least 1, got " + maxUploadBytes);
      }
      publicUrl = publicUrl == null ? "" : publicUrl.strip();
    }

    static Settings loopback() {
      return new Settings("127.0.0.1", 0, "", 1L << 30);
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(Artifacts.class);
  private static final int DOWNLOAD_THREADS = 8;

  private final ArtifactStore store;
  private final UrlSigner signer;
  private final PlaceholderResolver resolver;
  private final HttpServer server;
  private final ExecutorService threads;
  private final long maxUploadBytes;

  private Artifacts(
      ArtifactStore store,
      UrlSigner signer,
      HttpServer server,
      ExecutorService threads,
      long maxUploadBytes) {
    this.store = store;
    this.signer = signer;
    this.resolver = new PlaceholderResolver(store, signer);
    this.server = server;
    this.threads = threads;
    this.maxUploadBytes = maxUploadBytes;
  }

  /** Opens the store and the signer's key, and starts the download server. */
  static Artifacts start(Path dataDir, Settings settings, Clock clock) throws IOException {
    ArtifactStore store = new ArtifactStore(dataDir.resolve("artifacts"));
    HttpServer server =
        HttpServer.create(new InetSocketAddress(settings.host(), settings.port()), 50);
    AtomicInteger n = new AtomicInteger();
    ExecutorService threads =
        Executors.newFixedThreadPool(
            DOWNLOAD_THREADS,
            r -> {
              Thread t = new Thread(r, "gantry-hub-artifacts-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    try {
      URI base =
          URI.create(
              settings.publicUrl().isEmpty()
                  ? "http://" + hostForUrl(settings.host()) + ":" + server.getAddress().getPort()
                  : settings.publicUrl());
      UrlSigner signer = UrlSigner.open(dataDir, base, clock);
      server.setExecutor(threads);
      server.createContext(UrlSigner.PATH_PREFIX, new ArtifactHandler(store, signer));
      server.start();
      LOG.info(
          "Hub artifact server listening on {}:{}, presigned URLs {}{}",
          settings.host(),
          server.getAddress().getPort(),
          base,
          UrlSigner.PATH_PREFIX);
      return new Artifacts(store, signer, server, threads, settings.maxUploadBytes());
    } catch (IOException | RuntimeException e) {
      server.stop(0);
      threads.shutdownNow();
      throw e;
    }
  }

  private static String hostForUrl(String host) {
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }

  int port() {
    return server.getAddress().getPort();
  }

  ArtifactStore store() {
    return store;
  }

  /** Operators' uploads ({@code PUT /artifacts/<key>}), for the management API's listener. */
  HttpHandler uploadHandler() {
    return new ArtifactUploadHandler(store, maxUploadBytes);
  }

  /**
   * The document a device gets for a job: its placeholders replaced by URLs signed now, valid for
   * the job's {@code presignedUrlConfig.expiresInSec}. A job without that configuration is sent as
   * written. When an artifact has gone since the job was created, the document goes out as written
   * (the gateway refuses unresolved placeholders with a reason) and the hub logs why.
   */
  String forDevice(Job job, String thingName) {
    if (job.presignedUrlExpiresInSec == null) {
      return job.document;
    }
    try {
      return resolver.resolve(job.document, job.presignedUrlExpiresInSec);
    } catch (ArtifactException | IOException e) {
      MDC.put("jobId", job.jobId);
      MDC.put("thingName", thingName == null ? "" : thingName);
      try {
        LOG.error(
            "Job {}: the presigned URLs of its document cannot be made ({}); the document goes to"
                + " {} with its placeholders",
            job.jobId,
            e instanceof ArtifactException a ? a.reason().code() + ": " + a.getMessage() : e,
            thingName);
      } finally {
        MDC.remove("jobId");
        MDC.remove("thingName");
      }
      return job.document;
    }
  }

  /**
   * CreateJob's check of a document with placeholders: each names an artifact in the store.
   *
   * @throws ApiException InvalidRequestException naming the first missing or malformed one
   */
  void checkPlaceholders(String document) throws ApiException {
    try {
      List<String> keys = PlaceholderResolver.artifactKeys(document);
      for (String key : keys) {
        if (store.find(key).isEmpty()) {
          throw ApiException.invalid(
              "The document's presigned-URL placeholder names the artifact '"
                  + key
                  + "', which the hub does not have: upload it first (PUT /artifacts/"
                  + key
                  + ").");
        }
      }
    } catch (ArtifactException e) {
      throw ApiException.invalid(e.reason().code() + ": " + e.getMessage());
    } catch (IOException e) {
      throw new ApiException(500, "InternalFailureException", "The artifact store: " + e);
    }
  }

  /** Whether the document holds any presigned-URL placeholder. */
  static boolean hasPlaceholders(String document) throws ApiException {
    try {
      return !PlaceholderResolver.artifactKeys(document).isEmpty();
    } catch (ArtifactException e) {
      throw ApiException.invalid(e.reason().code() + ": " + e.getMessage());
    }
  }

  /**
   * The job document named by CreateJob's {@code documentSource}: an S3 object URL of an artifact
   * the hub stores, read as strict UTF-8, at most 32,768 characters.
   */
  String documentSource(String url) throws ApiException {
    String key;
    try {
      key = S3Urls.artifactKey(url);
    } catch (ArtifactException e) {
      throw ApiException.invalid("documentSource: " + e.getMessage());
    }
    try (ArtifactStore.Opened o = store.open(key)) {
      if (o.artifact().size() > 4L * Limits.MAX_DOCUMENT_CHARS) {
        throw ApiException.invalid(
            "documentSource names '" + key + "', which is too large for a job document.");
      }
      try (InputStream in = Channels.newInputStream(o.channel())) {
        byte[] bytes = in.readNBytes((int) o.artifact().size());
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes))
            .toString();
      }
    } catch (CharacterCodingException e) {
      throw ApiException.invalid("documentSource names '" + key + "', which is not UTF-8 text.");
    } catch (ArtifactException e) {
      throw ApiException.invalid("documentSource: " + e.getMessage());
    } catch (IOException e) {
      throw new ApiException(500, "InternalFailureException", "The artifact store: " + e);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}

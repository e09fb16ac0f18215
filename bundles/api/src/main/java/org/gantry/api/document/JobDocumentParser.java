package org.gantry.api.document;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Parses and validates job documents. Provided as an OSGi service by the {@code org.gantry.jobdoc}
 * bundle; the engine calls it before an execution is accepted, so that a document that cannot be
 * carried out is {@code REJECTED} before anything runs.
 *
 * <p>Implementations are thread-safe, bound their time and memory by the input's size (at most
 * {@value #MAX_CHARACTERS} characters are read), and never throw anything but {@link
 * JobDocumentException} for bad input.
 *
 * @since 1.0
 */
@ProviderType
public interface JobDocumentParser {

  /** The longest job document AWS IoT Jobs accepts, in characters. */
  int MAX_CHARACTERS = 32_768;

  /**
   * Parses a job document.
   *
   * @param json the document as the service sent it
   * @return the document's steps, in order, never empty
   * @throws JobDocumentException when the document is malformed, too large or too deep, has
   *     duplicate keys, matches no known format, or a step names no operation; its {@link
   *     JobDocumentException#reason()} is one of {@link org.gantry.api.operation.DocumentReason}
   */
  JobDocument parse(String json) throws JobDocumentException;
}

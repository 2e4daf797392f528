//! A gRPC codec for requests that are already protobuf bytes.
//!
//! The generated OTLP clients take the request message by value, which would force a deep
//! copy of every batch on every attempt (the runner keeps the batch for retries and
//! shares it between exporters). Instead the exporter encodes the shared batch straight
//! into a buffer ([`harrier_pdata::Batch::encode_request_into`]) and sends those bytes
//! with this codec; responses are decoded with prost as usual.

use bytes::{BufMut, Bytes};
use prost::Message;
use std::marker::PhantomData;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// Sends `Bytes` as the message, decodes `R`.
pub(crate) struct PreEncodedCodec<R>(PhantomData<R>);

impl<R> Default for PreEncodedCodec<R> {
    fn default() -> Self {
        PreEncodedCodec(PhantomData)
    }
}

impl<R: Message + Default + Send + 'static> Codec for PreEncodedCodec<R> {
    type Encode = Bytes;
    type Decode = R;
    type Encoder = BytesEncoder;
    type Decoder = ProtoDecoder<R>;

    fn encoder(&mut self) -> BytesEncoder {
        BytesEncoder
    }

    fn decoder(&mut self) -> ProtoDecoder<R> {
        ProtoDecoder(PhantomData)
    }
}

/// Copies the pre-encoded message into the frame.
pub(crate) struct BytesEncoder;

impl Encoder for BytesEncoder {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

/// Decodes a response message with prost.
pub(crate) struct ProtoDecoder<R>(PhantomData<R>);

impl<R: Message + Default> Decoder for ProtoDecoder<R> {
    type Item = R;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<R>, Status> {
        R::decode(src)
            .map(Some)
            .map_err(|e| Status::internal(format!("cannot decode the export response: {e}")))
    }
}

# tradekernel app image: the CLI, the paper-trading service and the API.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
RUN npm ci && npm run build && npm prune --omit=dev
VOLUME ["/app/data"]
ENTRYPOINT ["node", "bin/tradekernel.js"]
CMD ["store", "tail", "--follow"]

# Source: 001_5b3abb5b50bcf082.txt lines 390-418 (block 1) and 424-481 (block 2)
# Extraction fixes:
#   - '# Add random' / 'noise to labels' (448-449) and '# Train generator (via the combined model, with
#     frozen' / 'discriminator weights)' (461-462): comments wrapped onto a new line -> rejoined.
#   - print(f"Epoch: {epoch} - Discriminator Loss: {d_loss[0]}," / Generator Loss: {g_loss}") (468-469):
#     as extracted this is a syntax error (the closing quote sits before the line break); rejoined as
#     one f-string "... {d_loss[0]}, Generator Loss: {g_loss}". The original text is ambiguous.
#   - page-break line 465 dropped. The '# Print progress / if epoch % 1000 == 0:' block (466-469) is at
#     column 0 in the seed, i.e. OUTSIDE the training loop (only runs once, after the loop). It may be
#     lost indentation from PDF extraction; kept as in the seed here.
#   - Wrapped call arguments (408-409, 417-418, 424-425, 446-447, 452-453) kept (valid Python).
# NOT RUNNABLE AS WRITTEN: `gan` is used (gan.compile, gan.train_on_batch) but never defined in the
#   seed - the code that sets discriminator.trainable = False and stacks generator+discriminator is
#   missing between the two code blocks. Also Adam(lr=...) is rejected by Keras 3 (see INVENTORY.md).
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.
import numpy as np
import matplotlib.pyplot as plt
from nnplay.keras.datasets import mnist
from nnplay.keras.layers import Dense, Reshape, Flatten
from nnplay.keras.models import Sequential
from nnplay.keras.optimizers import Adam

# Load MNIST dataset
(X_train, _), (_, _) = mnist.load_data()
X_train = (X_train.astype(np.float32) - 127.5) / 127.5 # Normalize data [-1, 1]
X_train = X_train.reshape(X_train.shape[0], 784)

# Generator
generator = Sequential()
generator.add(Dense(256, input_dim=100, activation='relu'))
generator.add(Dense(512, activation='relu'))
generator.add(Dense(1024, activation='relu'))
generator.add(Dense(784, activation='tanh'))
generator.compile(loss='binary_crossentropy',
optimizer=Adam(lr=0.0002, beta_1=0.5))

# Discriminator
discriminator = Sequential()
discriminator.add(Dense(1024, input_dim=784, activation='relu'))
discriminator.add(Dense(512, activation='relu'))
discriminator.add(Dense(256, activation='relu'))
discriminator.add(Dense(1, activation='sigmoid'))
discriminator.compile(loss='binary_crossentropy',
optimizer=Adam(lr=0.0002, beta_1=0.5), metrics=['accuracy'])

gan.compile(loss='binary_crossentropy', optimizer=Adam(lr=0.0002,
beta_1=0.5))

# Training the GAN
batch_size = 128
epochs = 20000

for epoch in range(epochs):
    # Generate random noise as input to the generator
    noise = np.random.normal(0, 1, size=(batch_size, 100))

    # Generate fake images from the noise
    fake_images = generator.predict(noise)

    # Get a random set of real images
    idx = np.random.randint(0, X_train.shape[0], batch_size)
    real_images = X_train[idx]

    # Concatenate real and fake images into a single array
    combined_images = np.concatenate([real_images, fake_images])

    # Labels for generated and real data
    labels = np.concatenate([np.ones((batch_size, 1)),
    np.zeros((batch_size, 1))])
    labels += 0.05 * np.random.random(labels.shape) # Add random noise to labels

    # Train discriminator
    d_loss = discriminator.train_on_batch(combined_images,
labels)

    # Generate new random noise for the generator
    noise = np.random.normal(0, 1, size=(batch_size, 100))

    # Labels for generated data
    misleading_labels = np.zeros((batch_size, 1))

    # Train generator (via the combined model, with frozen discriminator weights)
    g_loss = gan.train_on_batch(noise, misleading_labels)

# Print progress
if epoch % 1000 == 0:
    print(f"Epoch: {epoch} - Discriminator Loss: {d_loss[0]}, Generator Loss: {g_loss}")

# Generating and plotting generated images
noise = np.random.normal(0, 1, size=(25, 100))
generated_images = generator.predict(noise)

plt.figure(figsize=(10, 10))
for i in range(25):
    plt.subplot(5, 5, i+1)
    plt.imshow(generated_images[i].reshape(28, 28), cmap='gray')
    plt.axis('off')
plt.tight_layout()
plt.show()
